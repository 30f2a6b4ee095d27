"""Battery item 7: ``gridkb backup`` and ``gridkb restore`` under write load.

Writers keep opening tickets while the backup runs. The restored copy must pass the database's
integrity check and the knowledge base's consistency check, serve searches, and hold every ticket
acknowledged before the backup started, with its question.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy

from tests.battery.conftest import trials
from tests.battery.ticket_writers import start_writers
from tests.conftest import POSTGRES_ADMIN, _postgres_available

WRITERS = 8


class Databases:
    """Fresh service databases of one kind (PostgreSQL ones are dropped at the end)."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind, self.folder, self.created = kind, folder, []

    def new(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / name / 'service.sqlite'}"
        database = f"gridkb_backup_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{database}"')
        self.created.append(database)
        return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + database

    def drop(self) -> None:
        for database in self.created:
            self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    @staticmethod
    def _admin(statement: str) -> None:
        engine = sqlalchemy.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(statement))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request, tmp_path):
    if request.param == "postgresql" and not _postgres_available():
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432")
    made = Databases(request.param, tmp_path)
    yield made
    made.drop()


def _restored_problems(url: str, before: list[tuple[str, str]]) -> list[str]:
    from gridkb.storage.service_db import ServiceStore

    problems = []
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("///", 1)[1])
        try:
            result = [r[0] for r in connection.execute("PRAGMA integrity_check")]
        finally:
            connection.close()
        problems += [] if result == ["ok"] else [f"integrity_check: {result[:3]}"]
    store = ServiceStore(url)
    try:
        restored = {t.number: t.question for t in store.tickets(limit=10_000_000)}
    finally:
        store.close()
    problems += [f"{n} acknowledged before the backup started is missing" for n, q in before if restored.get(n) != q]
    return problems


def _serves(settings) -> str:
    from gridkb.application.qa import QuestionAnswerer
    from gridkb.kb import KnowledgeBase

    return "" if QuestionAnswerer(KnowledgeBase(settings)).search("停电了怎么报修", k=3) else "the restored knowledge base finds nothing"


def test_backup_and_restore_under_write_load(battery, built_kb, databases, tmp_path):
    from gridkb.storage.backup import backup, restore
    from gridkb.errors import BackupError
    from gridkb.storage.consistency import check_knowledge_base
    from gridkb.storage.service_db import ServiceStore

    session_settings, _, _ = built_kb  # read only: a backup only reads the knowledge base
    count = trials(1, 5)
    failures: list[str] = []
    figures = []
    for trial in range(count):
        source_url = databases.new(f"source-{trial}")
        ServiceStore(source_url).close()
        live = session_settings.model_copy(update={"database_url": source_url, "published_dir": tmp_path / f"published-{trial}"})
        pool = start_writers(source_url, WRITERS, tmp_path / f"acks-{trial}", limit=100_000)
        try:
            deadline = time.monotonic() + 60
            while len(pool.acknowledged()) < 20 and time.monotonic() < deadline and pool.running():
                time.sleep(0.02)
            before = pool.acknowledged()  # acknowledged before the backup started
            try:
                report = backup(live, tmp_path / f"backup-{trial}")
            except BackupError as error:
                failures.append(f"trial {trial}: backup failed: {error}")
                continue
            during = len(pool.acknowledged()) - len(before)
        finally:
            errors = pool.kill()
        if errors or len(before) < 20:
            failures.append(f"trial {trial}: writers: {len(before)} acknowledged before the backup; {errors[-200:]}")
        if during <= 0:
            failures.append(f"trial {trial}: no ticket was written while the backup ran: not a test under load")
        target_url = databases.new(f"restored-{trial}")
        restored = session_settings.model_copy(update={
            "kb_dir": tmp_path / f"restored-{trial}" / "kb", "database_url": target_url, "published_dir": tmp_path / f"restored-{trial}" / "published",
        })
        result = restore(restored, tmp_path / f"backup-{trial}")
        failures += [f"trial {trial}: restore: {p}" for p in result.problems]
        failures += [f"trial {trial}: {p}" for p in _restored_problems(target_url, before)]
        failures += [f"trial {trial}: restored knowledge base: {p}" for p in check_knowledge_base(restored.kb_dir).problems]
        if problem := _serves(restored):
            failures.append(f"trial {trial}: {problem}")
        figures.append(f"{len(before)} before, {during} during, {report.seconds}s")
    battery.record(f"backup and restore under write load ({databases.kind}): acknowledged tickets missing, integrity", count, failures)
    assert not failures, failures[:5]
    print(f"backup under load ({databases.kind}): {'; '.join(figures)}")
