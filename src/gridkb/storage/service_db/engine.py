"""Connecting to the service database: engines tuned per backend, the durability check that refuses a
database which could lose an acknowledged ticket, and schema migrations (Alembic, ``storage/migrations``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, OperationalError

from gridkb.errors import DatabaseError, DurabilityError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a failed statement's error (and its logged traceback) never carries what a customer wrote
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=FULL")  # a committed ticket survives a power cut
            cursor.execute("PRAGMA secure_delete=ON")  # erased customer data is overwritten, not left in free pages
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")  # several workers wait their turn to write
            cursor.close()

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10, pool_recycle=1800, hide_parameters=True)
    _ping_when_idle(engine, IDLE_PING_SECONDS)
    return engine


IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle for a while: a server restart or
    a firewall's idle cut is caught, but busy connections skip the round trip ``pool_pre_ping`` would
    add to every transaction (13 % of a chat request's time under load, measured)."""

    @event.listens_for(engine, "checkin")
    def _stamp(_: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(connection: Any, record: Any, _: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < idle_seconds:
            return  # fresh, or back from use a moment ago
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        except Exception as error:  # any driver error: the pool replaces the connection and retries
            raise DisconnectionError(str(error)) from error


# setting → accepted values (as SQLite's PRAGMA and PostgreSQL's SHOW print them)
SQLITE_DURABILITY = {"journal_mode": {"wal"}, "synchronous": {"2"}, "secure_delete": {"1"}}  # 2 = FULL
POSTGRES_DURABILITY = {
    "fsync": {"on"},
    "full_page_writes": {"on"},
    "synchronous_commit": {"on", "local", "remote_write", "remote_apply"},  # all but off flush locally
}
DURABILITY_HINTS = {
    "sqlite": "WAL needs a local disk (not a network share or an in-memory database); synchronous and secure_delete are set on every connection",
    "postgresql": "set fsync = on and full_page_writes = on in postgresql.conf, and synchronous_commit to anything but off "
    "(also per role or database: ALTER ROLE/DATABASE … RESET synchronous_commit), then reload the server",
}


def check_durability(engine: Engine) -> None:
    """Read the settings that keep an acknowledged ticket through a crash (SQLite: WAL, synchronous=FULL,
    secure_delete; PostgreSQL: fsync, full_page_writes, synchronous_commit) from a live connection;
    raises DurabilityError naming each one not in force."""
    dialect = engine.dialect.name
    required = SQLITE_DURABILITY if dialect == "sqlite" else POSTGRES_DURABILITY
    command = "PRAGMA" if dialect == "sqlite" else "SHOW"
    try:
        with engine.connect() as connection:
            found = {name: str(connection.exec_driver_sql(f"{command} {name}").scalar()).lower() for name in required}
    except OperationalError as error:
        raise DatabaseError(f"cannot reach the service database {engine.url.render_as_string(hide_password=True)}: {error.orig}") from error
    wrong = [f"{name}={value} (needs {' or '.join(sorted(required[name]))})" for name, value in found.items() if value not in required[name]]
    if wrong:
        raise DurabilityError(
            f"the service database {engine.url.render_as_string(hide_password=True)} would not keep acknowledged "
            f"tickets through a crash: {', '.join(wrong)}. {DURABILITY_HINTS.get(dialect, '')}"
        )


def migrate(url: str) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    try:
        with _migration_lock(url):
            command.upgrade(config, "head")
    except OperationalError as error:
        raise DatabaseError(f"cannot reach the service database {safe_url(url)}: {error.orig}") from error


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """One migrating process at a time (several workers start together)."""
    if url.startswith("sqlite"):
        import fcntl

        path = url.split("///", 1)[-1]
        if not path or path == ":memory:":
            yield
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(f"{path}.migrate.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT pg_advisory_lock(7359881)")
            try:
                yield
            finally:
                connection.exec_driver_sql("SELECT pg_advisory_unlock(7359881)")
    finally:
        engine.dispose()


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
