"""The directory of a knowledge base: which generation is served, atomic switching, a single-writer lock.

    kb_dir/
      CURRENT              name of the generation being served (replaced atomically)
      KB_ID                a random id, keeps this knowledge base's collections apart on a Chroma server
      embeddings.sqlite    embedding cache, shared by all generations
      ingest.lock          held by the one process that may write
      generations/<name>/  one built generation; its files belong to ``storage.generation.Generation``

An ingest builds a whole new generation in ``generations/.staging-*`` and switches CURRENT only
when it is complete, so a crash or kill mid-ingest leaves the previous knowledge base serving.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from gridkb.errors import GenerationError, GridkbError, KnowledgeBaseMissingError
from gridkb.storage.generation import STAGING_PREFIX, Generation, GenerationFile


class KbLayout:
    """The generations of one knowledge base on disk and which of them is current."""

    def __init__(self, kb_dir: Path) -> None:
        self.root = kb_dir

    @property
    def generations(self) -> Path:
        return self.root / "generations"

    @property
    def embedding_cache(self) -> Path:
        return self.root / "embeddings.sqlite"

    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    def current(self) -> Path | None:
        """The directory of the generation being served, or None when nothing was built yet."""
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):  # --kb names nothing, or a file
            return None
        path = self.generations / name
        return path if Generation(path).is_complete() else None

    def built_config_dir(self) -> Path | None:
        """The configuration the current generation was built with: the folder it was read from while that
        still exists (operators edit it in place), else the generation's own copy; None for a generation
        built before copies were kept, or when nothing (readable) was built."""
        current = self.current()
        if current is None:
            return None
        generation = Generation(current)
        try:
            config = generation.read_manifest().config
        except GenerationError:  # not a knowledge base this gridkb reads: opening it says so itself
            return None
        if config is not None and config.source and Path(config.source).is_dir():
            return Path(config.source)
        snapshot = generation.path(GenerationFile.CONFIG)
        return snapshot if snapshot.is_dir() else None

    def require_current(self) -> Path:
        current = self.current()
        if current is None:
            raise KnowledgeBaseMissingError(f"no knowledge base at {self.root}: run 'gridkb ingest corpus/ --kb {self.root}' first")
        return current

    def open_current(self) -> Generation:
        """The generation being served; raises KnowledgeBaseMissingError when nothing was built."""
        return Generation(self.require_current())

    def new_staging(self) -> Generation:
        """An empty generation to build into, invisible to readers until ``publish``."""
        self.generations.mkdir(parents=True, exist_ok=True)
        name = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        staging = self.generations / f"{STAGING_PREFIX}{name}"
        staging.mkdir()
        return Generation(staging)

    def publish(self, staging: Generation) -> Generation:
        """Move a complete staging build into place and make it current (atomic rename of CURRENT)."""
        final = self.generations / staging.name
        staging.directory.rename(final)
        _fsync_dir(self.generations)
        self.make_current(final)
        return Generation(final)

    def make_current(self, generation: Path) -> None:
        """Serve a complete generation from now on (CURRENT replaced atomically and durably)."""
        tmp = self.root / f".CURRENT.{uuid.uuid4().hex[:6]}"
        tmp.write_text(generation.name, encoding="utf-8")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(self.current_file)
        _fsync_dir(self.root)

    def kb_id(self) -> str:
        """A random id of this knowledge base, created once; keeps its collections apart on a shared Chroma server."""
        path = self.root / "KB_ID"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text(uuid.uuid4().hex[:8], encoding="utf-8")
        return path.read_text(encoding="utf-8").strip()

    def generation_names(self) -> list[str]:
        """Completed generations on disk, newest first."""
        if not self.generations.is_dir():
            return []
        return sorted((p.name for p in self.generations.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)

    def clean(self, keep: int = 2) -> None:
        """Remove abandoned staging builds and all but the ``keep`` newest generations (never the current one)."""
        if not self.generations.is_dir():
            return
        current = self.current()
        for path in self.generations.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(path, ignore_errors=True)
        done = sorted((p for p in self.generations.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
        for old in done[keep:]:
            if current is None or old != current:
                shutil.rmtree(old, ignore_errors=True)

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Exclusive lock for the whole ingest: a second writer gets a clear error instead of corrupting Chroma."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "ingest.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise GridkbError(f"another ingest is writing {self.root}; try again when it has finished") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
