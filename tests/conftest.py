"""Shared fixtures: one small session-scoped knowledge base built from tests/fixtures/mini_corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gridkb.config import Settings
from gridkb.production.lexicon import Lexicon
from gridkb.records import IngestReport

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = ROOT / "corpus" / "seeds"


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    return Lexicon.load(ROOT / "kb")


@pytest.fixture(scope="session")
def built_kb(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, IngestReport]:
    """(settings, corpus dir, report) of the mini corpus ingested once for the whole session. Read only."""
    from gridkb.ingest import ingest

    base = tmp_path_factory.mktemp("session_kb")
    corpus = base / "corpus"
    shutil.copytree(FIXTURES / "mini_corpus", corpus)
    settings = Settings(kb_dir=base / "kb", config_dir=ROOT / "kb", classifier_training=FIXTURES / "eval" / "mini_qa.jsonl")
    report = ingest([corpus], settings)
    return settings, corpus, report


@pytest.fixture()
def fresh_kb(tmp_path: Path) -> tuple[Settings, Path]:
    """A writable copy of the mini corpus and an empty kb directory."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "mini_corpus", corpus)
    return Settings(kb_dir=tmp_path / "kb", config_dir=ROOT / "kb", classifier_training=FIXTURES / "eval" / "mini_qa.jsonl"), corpus


POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_available() -> bool:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(POSTGRES_ADMIN, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means: no server to test against
        return False


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session, dropped afterwards; skipped without a server."""
    import uuid

    import sqlalchemy

    if not _postgres_available():
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432 (CI has one)")
    name = f"gridkb_test_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each service-database test runs against SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite'}"
    base = request.getfixturevalue("postgres_url")
    # one schema per test, so tests do not see each other's rows
    import uuid

    import sqlalchemy

    schema = f"t_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{base}?options=-csearch_path%3D{schema}"


class Clock:
    """A settable clock for SLA and notice tests."""

    def __init__(self, start: "datetime") -> None:
        self.now = start

    def __call__(self) -> "datetime":
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture()
def clock() -> Clock:
    from datetime import datetime, timedelta, timezone

    return Clock(datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=8))))


@pytest.fixture()
def desk(built_kb, tmp_path: Path, clock: Clock):
    """A service desk over the session knowledge base (read only) and a fresh SQLite database."""
    from gridkb.service import GridService

    settings, _, _ = built_kb
    settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'service.sqlite'}", "published_dir": tmp_path / "published"})
    return GridService(settings, clock=clock)
