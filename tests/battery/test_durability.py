"""Battery item 4: kill -9 during ingestion and during concurrent ticket writes.

- ingestion: ``gridkb ingest`` (a real subprocess) is killed at a different stage each trial, on a
  knowledge base that already serves a generation. The previous generation (or, if the kill came after
  the switch, the complete new one) must keep serving, a re-run must complete, and the chunk table,
  Chroma, BM25 and the graph must agree on the chunk ids (``storage.consistency``).
- tickets: 50 processes open tickets through the service store on one database (SQLite, and
  PostgreSQL when a server answers) and are killed with -9 mid-way: every acknowledged ticket must be
  there, once, with its question, and the next ticket must get a fresh number.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy

from tests.battery.conftest import LONG, trials
from tests.battery.ticket_writers import start_writers
from tests.conftest import FIXTURES, ROOT

KILL_STAGES = ("index", "graph", "embed", "organise", "parse", None)  # None: during start-up
WRITERS = 50


# --- kill -9 during ingestion


@pytest.fixture()
def serving_kb(built_kb, tmp_path):
    """A knowledge base already serving a generation of a copy of the mini corpus."""
    from gridkb.config import Settings
    from gridkb.ingest import ingest

    session_settings, _, _ = built_kb
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "mini_corpus", corpus)
    (tmp_path / "kb").mkdir()
    shutil.copy(session_settings.kb_dir / "embeddings.sqlite", tmp_path / "kb" / "embeddings.sqlite")
    settings = Settings(kb_dir=tmp_path / "kb", config_dir=ROOT / "kb", classifier_training=FIXTURES / "eval" / "mini_qa.jsonl")
    ingest([corpus], settings)
    return settings, corpus


def _ingest_command(settings, corpus: Path) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDKB_")}
    env |= {"GRIDKB_CONFIG_DIR": str(settings.config_dir), "GRIDKB_CLASSIFIER_TRAINING": str(settings.classifier_training)}
    return [sys.executable, "-m", "gridkb.cli", "ingest", str(corpus), "--kb", str(settings.kb_dir)], env


def _kill_ingest(command: list[str], env: dict[str, str], stage: str | None, rng: random.Random) -> str:
    """Start an ingest and kill -9 it when ``stage`` starts (plus a random moment); says when it died."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if stage is None:
        time.sleep(rng.uniform(0.1, 0.8))
    else:
        for line in process.stderr:  # type: ignore[union-attr]
            if line.startswith(f"ingest: {stage} 0/"):
                break
        time.sleep(rng.uniform(0.0, 0.15))
    finished = process.poll() is not None
    os.kill(process.pid, signal.SIGKILL)  # our own child, by its pid
    process.wait(timeout=30)
    process.stderr.close()  # type: ignore[union-attr]
    return f"{stage or 'start-up'}{' (had finished)' if finished else ''}"


def _serves(settings) -> str:
    """'' when the current generation answers a search from its own chunks, else what went wrong."""
    from gridkb.application.qa import QuestionAnswerer
    from gridkb.kb import KnowledgeBase

    kb = KnowledgeBase(settings)
    hits = QuestionAnswerer(kb).search("停电了怎么报修", k=3)
    if not hits:
        return f"generation {kb.directory.name} found nothing for a question it answers"
    unknown = [h.chunk.id for h in hits if h.chunk.id not in kb.chunk_by_id]
    return f"generation {kb.directory.name} served unknown chunks {unknown}" if unknown else ""


def test_kill_during_ingestion_keeps_serving(battery, serving_kb):
    from gridkb.storage.consistency import check_knowledge_base
    from gridkb.storage.layout import KbLayout

    settings, corpus = serving_kb
    layout = KbLayout(settings.kb_dir)
    command, env = _ingest_command(settings, corpus)
    rng = random.Random(14)
    count = trials(2, 10)
    failures: list[str] = []
    moments: list[str] = []
    for trial in range(count):
        before = layout.require_current().name
        revision = f"第{trial}次修订：营业厅周末照常受理停电报修。"
        with open(corpus / "public" / "停电报修.txt", "a", encoding="utf-8") as handle:
            handle.write(f"\n{revision}\n")
        moment = _kill_ingest(command, env, KILL_STAGES[trial % len(KILL_STAGES)], rng)
        moments.append(moment)
        current = layout.current()
        if current is None:
            failures.append(f"trial {trial}, killed at {moment}: nothing serves")
            continue
        if current.name != before and not (current / "manifest.json").is_file():
            failures.append(f"trial {trial}, killed at {moment}: CURRENT names an incomplete generation")
        report = check_knowledge_base(settings.kb_dir)
        failures += [f"trial {trial}, killed at {moment}, after the kill: {p}" for p in report.problems]
        if problem := _serves(settings):
            failures.append(f"trial {trial}, killed at {moment}, after the kill: {problem}")
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        if rerun.returncode != 0:
            failures.append(f"trial {trial}, killed at {moment}: the re-run failed: {rerun.stderr[-300:]}")
            continue
        report = check_knowledge_base(settings.kb_dir)
        failures += [f"trial {trial}, killed at {moment}, after the re-run: {p}" for p in report.problems]
        from gridkb.kb import KnowledgeBase

        if not any(revision in c.text for c in KnowledgeBase(settings).chunks):
            failures.append(f"trial {trial}, killed at {moment}: the re-run's generation lacks the revised text")
        if leftovers := list(layout.generations.glob(".staging-*")):
            failures.append(f"trial {trial}, killed at {moment}: the re-run left {leftovers[0].name}")
    battery.record("kill -9 during ingestion: previous generation serves, re-run completes, stores agree", count, failures)
    assert not failures
    print(f"ingest killed at: {', '.join(moments)}")


# --- kill -9 during concurrent ticket writes


def _fresh_database(kind: str, request, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'service.sqlite'}"
    base = request.getfixturevalue("postgres_url")
    schema = f"k_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{base}?options=-csearch_path%3D{schema}"


def _ticket_problems(url: str, acked: list[tuple[str, str]]) -> list[str]:
    """Every acknowledged ticket present once with its question; each ticket has its created event;
    the next ticket gets a number nobody holds."""
    from datetime import datetime, timezone

    from gridkb.organisation.taxonomy import Taxonomy
    from gridkb.records import TicketOrigin
    from gridkb.storage.service_db import ServiceStore
    from gridkb.tickets.service import TicketService
    from gridkb.tickets.sla import ServiceLevels

    store = ServiceStore(url)  # after the crash, with the durability settings asserted again
    try:
        stored = {t.number: t.question for t in store.tickets(limit=10_000_000)}
        problems = [f"acknowledged {n} lost" for n, q in acked if n not in stored]
        problems += [f"acknowledged {n} holds another question ({stored[n]!r}, not {q!r})" for n, q in acked if n in stored and stored[n] != q]
        problems += [f"ticket number {n} acknowledged {c} times" for n, c in Counter(n for n, _ in acked).items() if c > 1]
        problems += [f"question {q!r} stored {c} times" for q, c in Counter(stored.values()).items() if c > 1]
        with store.engine.connect() as connection:
            orphans = connection.execute(sqlalchemy.text(
                "SELECT count(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_number = t.number)"
            )).scalar_one()
            if url.startswith("sqlite"):
                integrity = connection.exec_driver_sql("PRAGMA integrity_check").scalar_one()
                problems += [] if integrity == "ok" else [f"integrity_check: {integrity}"]
        problems += [f"{orphans} tickets without their created event"] if orphans else []
        service = TicketService(store, ServiceLevels.load(ROOT / "kb" / "service_levels.yaml"), Taxonomy.load(ROOT / "kb" / "taxonomy.yaml"),
                                lambda: datetime.now(timezone.utc))
        after = service.open(TicketOrigin.AGENT, "恢复后的第一张工单", actor="battery")
        problems += [f"the first ticket after the crash reused {after.number}"] if after.number in stored else []
    finally:
        store.close()
    return problems


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_kill_during_concurrent_ticket_writes(battery, kind, request, tmp_path):
    from gridkb.storage.service_db import ServiceStore

    rng = random.Random(41)
    count = trials(2, 10)
    failures: list[str] = []
    acknowledged = 0
    for trial in range(count):
        url = _fresh_database(kind, request, tmp_path / f"trial-{trial}")
        ServiceStore(url).close()  # schema in place before the writers start
        pool = start_writers(url, WRITERS, tmp_path / f"trial-{trial}" / "acks", limit=100_000)
        target = rng.randint(20, 80) if not LONG else rng.randint(30, 600)  # a different moment each trial
        deadline = time.monotonic() + 120
        try:
            while len(pool.acknowledged()) < target and time.monotonic() < deadline and pool.running():
                time.sleep(0.02)
        finally:
            errors = pool.kill()
        acked = pool.acknowledged()
        acknowledged += len(acked)
        if len(acked) < target or errors:
            failures.append(f"trial {trial}: {len(acked)} of {target} tickets acknowledged before the kill; writers said: {errors[-300:]}")
        failures += [f"trial {trial} ({kind}): {p}" for p in _ticket_problems(url, acked)]
    battery.record(f"kill -9 of {WRITERS} ticket writers ({kind}): acknowledged tickets lost or duplicated", count, failures)
    assert not failures, failures[:5]
    assert acknowledged >= 20 * count
    print(f"kill -9 of {WRITERS} writers ({kind}): {acknowledged} acknowledged tickets over {count} trials, all present once")
