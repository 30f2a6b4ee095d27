"""gridkb backup / restore: a round trip through the command line, and the refusals."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from gridkb.errors import BackupError
from gridkb.organisation.taxonomy import Taxonomy
from gridkb.records import TicketOrigin
from gridkb.storage.backup import backup, restore
from gridkb.storage.service_db import ServiceStore
from gridkb.tickets.service import TicketService
from gridkb.tickets.sla import ServiceLevels
from tests.conftest import ROOT


def run(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDKB_")} | {"GRIDKB_CONFIG_DIR": str(ROOT / "kb")}
    return subprocess.run([sys.executable, "-m", "gridkb.cli", *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture()
def installation(built_kb, tmp_path):
    """A copy of the session knowledge base with a service database holding one ticket."""
    settings, _, _ = built_kb
    shutil.copytree(settings.kb_dir, tmp_path / "kb")
    db = f"sqlite:///{tmp_path / 'service.sqlite'}"
    store = ServiceStore(db)
    levels, taxonomy = ServiceLevels.load(ROOT / "kb" / "service_levels.yaml"), Taxonomy.load(ROOT / "kb" / "taxonomy.yaml")
    ticket = TicketService(store, levels, taxonomy, lambda: datetime.now(timezone.utc)).open(TicketOrigin.AGENT, "电表箱门损坏，请派人修理", "agent-7")
    store.close()
    return settings.model_copy(update={"kb_dir": tmp_path / "kb", "database_url": db}), ticket.number


def test_cli_round_trip_keeps_tickets_and_the_served_generation(installation, tmp_path):
    settings, number = installation
    made = run("backup", str(tmp_path / "backup"), "--kb", str(settings.kb_dir), "--db", settings.database_url, "--json")
    assert made.returncode == 0, made.stderr
    assert '"tickets": 1' in made.stdout
    target_db = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    restored = run("restore", str(tmp_path / "backup"), "--kb", str(tmp_path / "restored-kb"), "--db", target_db)
    assert restored.returncode == 0, restored.stderr
    store = ServiceStore(target_db)
    assert store.ticket(number).question == "电表箱门损坏，请派人修理"
    store.close()
    assert (tmp_path / "restored-kb" / "CURRENT").read_text() == (settings.kb_dir / "CURRENT").read_text()


def test_restore_keeps_the_database_it_replaces(installation, tmp_path):
    settings, _ = installation
    backup(settings, tmp_path / "backup")
    report = restore(settings, tmp_path / "backup")
    assert len(report.kept_aside) == 1 and os.path.getsize(report.kept_aside[0]) > 0
    assert not report.problems


def test_refusals(installation, tmp_path):
    settings, _ = installation
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "note.txt").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        backup(settings, tmp_path / "full")
    with pytest.raises(BackupError, match="not a complete gridkb backup"):
        restore(settings, tmp_path / "full")
    backup(settings, tmp_path / "backup")
    chunks = next((tmp_path / "backup" / "kb" / "generations").iterdir()) / "chunks.json"
    chunks.write_bytes(chunks.read_bytes().replace(b"]", b",{}]", 1))
    with pytest.raises(BackupError, match="altered or is incomplete"):
        restore(settings, tmp_path / "backup")
    other = settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    shutil.rmtree(tmp_path / "backup")
    backup(settings, tmp_path / "backup")
    with pytest.raises(BackupError, match="holds a sqlite database"):
        restore(other, tmp_path / "backup")
