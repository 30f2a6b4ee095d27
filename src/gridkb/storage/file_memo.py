"""Derived tables kept between processes in the temporary folder, as jieba keeps its dictionary: a
command-line process that answers one question must not rebuild them each time. A file is named
after what it was derived from, so a stale one is never read; an absent, torn or unreadable one is
rebuilt by the caller. marshal: ``loads`` of a whole file of plain dicts and strings is the fastest
reader Python has (``marshal.load`` of the open file reads it piece by piece, four times slower)."""

from __future__ import annotations

import logging
import marshal
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def memo_path(name: str) -> Path:
    """Where the memo called ``name`` lives (the temporary folder, where jieba keeps its cache)."""
    return Path(tempfile.gettempdir()) / name


def read_memo(path: Path) -> object | None:
    """The value stored at ``path``, or None when there is none that can be read."""
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None


def write_memo(path: Path, value: object) -> None:
    """Store ``value`` at ``path`` atomically; a folder that cannot be written costs time, never correctness."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    except OSError as error:
        log.debug("memo %s not written: %s", path, error)
        return
    try:
        with os.fdopen(handle, "wb") as out:
            marshal.dump(value, out)
        os.replace(temporary, path)  # a reader sees the old state or the whole file
    except OSError as error:  # a full disk: leave no half-written file behind
        log.debug("memo %s not written: %s", path, error)
        Path(temporary).unlink(missing_ok=True)
