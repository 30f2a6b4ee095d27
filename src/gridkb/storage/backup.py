"""Backup and restore of an installation: the service database and the knowledge base being served.

    DIR/
      backup.json          what was copied, when, and a SHA-256 of every file (written last: a backup
                           without it is incomplete)
      service.sqlite       SQLite: a snapshot through SQLite's online backup API (writers go on meanwhile)
      service.pgdump       PostgreSQL: pg_dump's custom format (one consistent snapshot)
      kb/                  CURRENT, KB_ID, embeddings.sqlite and generations/<the served one>
      published/           answers approved from tickets (sources of the next rebuild)

The database is copied first, so every ticket acknowledged before the backup started is in it.
The knowledge-base copy holds the ingest lock, so no build removes the generation being copied.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from sqlalchemy.engine import make_url

from gridkb.config import Settings
from gridkb.errors import BackupError
from gridkb.storage.consistency import check_generation, sqlite_integrity
from gridkb.storage.generation import Generation
from gridkb.storage.layout import KbLayout
from gridkb.storage.service_db import migrate

BACKUP_MANIFEST = "backup.json"
SQLITE_FILE = "service.sqlite"
PG_DUMP_FILE = "service.pgdump"
KB_FOLDER = "kb"
PUBLISHED_FOLDER = "published"
FORMAT = 1


@dataclass(frozen=True)
class BackupReport:
    directory: Path
    database: str  # sqlite | postgresql
    generation: str | None
    tickets: int | None  # in the copy (SQLite); None when not counted
    files: int
    bytes: int
    seconds: float
    problems: tuple[str, ...] = ()  # integrity and consistency findings on the copy

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "directory": str(self.directory)}


@dataclass(frozen=True)
class RestoreReport:
    directory: Path
    database: str
    generation: str | None
    kept_aside: tuple[str, ...] = ()  # what the restore replaced, kept rather than deleted
    problems: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "directory": str(self.directory)}


def backup(settings: Settings, target: Path) -> BackupReport:
    """Copy the service database, then the served generation, into ``target`` (new or empty); checks the
    copy (integrity_check, chunk ids of every store) and raises BackupError when it is not sound."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not empty: back up into a new folder")
    started = time.perf_counter()
    target.mkdir(parents=True, exist_ok=True)
    url = settings.service_database_url
    database = _dialect(url)
    problems: list[str] = []
    if database == "sqlite":
        _sqlite_copy(_sqlite_path(url), target / SQLITE_FILE)
        problems += sqlite_integrity(target / SQLITE_FILE, "service database")
    else:
        _pg_dump(url, target / PG_DUMP_FILE)
    generation = _copy_knowledge_base(settings, target / KB_FOLDER)
    if generation is not None:
        problems += list(check_generation(target / KB_FOLDER / "generations" / generation).problems)
    if settings.published_path.is_dir():
        shutil.copytree(settings.published_path, target / PUBLISHED_FOLDER)
    if problems:
        raise BackupError(f"the backup in {target} failed its checks: {'; '.join(problems[:5])}")
    tickets = _count_tickets(target / SQLITE_FILE) if database == "sqlite" else None
    files = _checksums(target)
    manifest = {"format": FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "database": database,
                "generation": generation, "tickets": tickets, "files": files}
    (target / BACKUP_MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    size = sum((target / name).stat().st_size for name in files)
    return BackupReport(target, database, generation, tickets, len(files), size, round(time.perf_counter() - started, 2))


def restore(settings: Settings, source: Path) -> RestoreReport:
    """Put a backup back: the service database (what it replaces is kept aside, never deleted) and the
    backed-up generation, made current. Stop the server first. Raises BackupError on an incomplete or
    altered backup, or one made from the other kind of database."""
    manifest = _verified_manifest(source)
    url = settings.service_database_url
    database = _dialect(url)
    if manifest["database"] != database:
        raise BackupError(f"this backup holds a {manifest['database']} database but the service database is {database}: "
                          f"restore with --db pointing at a {manifest['database']} database")
    kept: list[str] = []
    if database == "sqlite":
        kept += _sqlite_restore(source / SQLITE_FILE, _sqlite_path(url))
    else:
        _pg_restore(source / PG_DUMP_FILE, url)
    migrate(url)  # a backup from an older version gets the newer schema
    problems = sqlite_integrity(_sqlite_path(url), "service database") if database == "sqlite" else []
    generation = manifest.get("generation")
    if generation:
        problems += _restore_knowledge_base(source / KB_FOLDER, settings.kb_dir, generation)
    if (source / PUBLISHED_FOLDER).is_dir():
        shutil.copytree(source / PUBLISHED_FOLDER, settings.published_path, dirs_exist_ok=True)
    return RestoreReport(source, database, generation, tuple(kept), tuple(problems))


# --- the service database


def _dialect(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {name} database: gridkb supports SQLite and PostgreSQL")
    return name


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: one consistent snapshot, taken while other processes keep writing."""
    if not source.is_file():
        raise BackupError(f"no service database at {source}")
    with _connect(source) as src, _connect(target) as dst:
        src.backup(dst)  # all pages in one step: a single read transaction, so a single point in time


def _connect(path: Path) -> "_Closing":
    return _Closing(sqlite3.connect(path, timeout=30))


class _Closing:
    """sqlite3's own context manager commits but never closes."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *_: object) -> None:
        self.connection.close()


def _sqlite_restore(backup_file: Path, target: Path) -> list[str]:
    kept = []
    if target.is_file():
        aside = target.with_name(f"{target.name}.before-restore-{time.strftime('%Y%m%dT%H%M%S')}")
        _sqlite_copy(target, aside)
        kept.append(str(aside))
    target.parent.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(backup_file, target)  # through SQLite, so a WAL file beside the target cannot resurrect old pages
    return kept


def _count_tickets(path: Path) -> int:
    with _connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM tickets").fetchone()[0])


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump/pg_restore, the password passed in the environment (not on
    the command line, where any user could read it)."""
    parsed = make_url(url)
    env = {**os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {})}
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed on this machine: install the PostgreSQL client tools "
                          f"(the server's major version or newer), or back the database up with the server's own tools")
    return path


def _pg_dump(url: str, target: Path) -> None:
    connection, env = _libpq(url)
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), connection], env, "pg_dump")


def _pg_restore(dump: Path, url: str) -> None:
    connection, env = _libpq(url)
    command = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
               "--dbname", connection, str(dump)]
    _run(command, env, "pg_restore")


def _run(command: list[str], env: dict[str, str], name: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{name} failed: {result.stderr.strip()[:500]}")


# --- the knowledge base


def _copy_knowledge_base(settings: Settings, target: Path) -> str | None:
    """The served generation, its id and the embedding cache; None when nothing was built."""
    layout = KbLayout(settings.kb_dir)
    if layout.current() is None:
        return None
    with layout.writer_lock():  # no ingest may remove the generation mid-copy
        current = layout.require_current()
        shutil.copytree(current, target / "generations" / current.name)
        if (layout.root / "KB_ID").is_file():
            shutil.copyfile(layout.root / "KB_ID", target / "KB_ID")
        if layout.embedding_cache.is_file():  # the query cache writes into it while serving
            _sqlite_copy(layout.embedding_cache, target / layout.embedding_cache.name)
        (target / "CURRENT").write_text(current.name, encoding="utf-8")
    return current.name


def _restore_knowledge_base(source: Path, kb_dir: Path, generation: str) -> list[str]:
    """Copy the generation in (unless it is there already), make it current; the consistency check's findings."""
    layout = KbLayout(kb_dir)
    with layout.writer_lock():
        final = layout.generations / generation
        if not final.is_dir() or not check_generation(final).ok:
            staging = layout.generations / f".staging-{generation}"
            shutil.rmtree(staging, ignore_errors=True)
            layout.generations.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source / "generations" / generation, staging)
            if final.is_dir():  # a damaged copy of the same generation: keep it aside
                final.rename(final.with_name(f".damaged-{generation}-{time.strftime('%Y%m%dT%H%M%S')}"))
            layout.publish(Generation(staging))
        else:
            layout.make_current(final)
        for name in ("KB_ID", layout.embedding_cache.name):  # never replace a live id or a newer cache
            if (source / name).is_file() and not (kb_dir / name).exists():
                shutil.copyfile(source / name, kb_dir / name)
    return list(check_generation(final).problems)


# --- the manifest


def _checksums(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): _sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != BACKUP_MANIFEST
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified_manifest(source: Path) -> dict:
    try:
        manifest = orjson.loads((source / BACKUP_MANIFEST).read_bytes())
    except FileNotFoundError:
        raise BackupError(f"{source} is not a complete gridkb backup (no {BACKUP_MANIFEST})") from None
    except orjson.JSONDecodeError as error:
        raise BackupError(f"{source / BACKUP_MANIFEST} is damaged: {error}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} was written by another gridkb version (format {manifest.get('format')})")
    bad = [name for name, digest in manifest["files"].items() if not (source / name).is_file() or _sha256(source / name) != digest]
    if bad:
        raise BackupError(f"the backup in {source} was altered or is incomplete: {len(bad)} files differ, e.g. {bad[:3]}")
    return dict(manifest)
