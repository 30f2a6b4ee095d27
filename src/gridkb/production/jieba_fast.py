"""jieba's tokenizer and part-of-speech tagger, started in a fraction of the time. Every command that
answers a question (``gridkb ask``) paid for both at start-up:

- ``tokenizer()``: jieba reads its prefix dictionary cache with ``marshal.load(file)``, which reads
  the 9 MB file piece by piece (0.8 s here); ``marshal.loads`` of the whole file takes 0.2 s.
- ``posseg()``: importing ``jieba.posseg`` builds a default tagger that reads the word tags of the
  5 MB dictionary line by line (0.4–0.5 s), for 349,000 tags of which a question needs a handful;
  they are read from a marshal copy instead, written the first time beside jieba's own cache.
"""

from __future__ import annotations

import importlib
import io
import logging
import marshal
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import jieba

if TYPE_CHECKING:
    import jieba.posseg

log = logging.getLogger(__name__)

_lock = threading.Lock()


def tokenizer() -> jieba.Tokenizer:
    """A tokenizer over jieba's default dictionary, initialised from jieba's own cache when there is
    one (as ``Tokenizer.initialize`` would, only faster), else by jieba (which writes the cache)."""
    tokenizer = jieba.Tokenizer()
    cache = Path(tokenizer.tmp_dir or tempfile.gettempdir()) / "jieba.cache"  # jieba's name for the default dictionary's
    try:
        frequencies, total = marshal.loads(cache.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        tokenizer.initialize()
        return tokenizer
    with tokenizer.lock:
        tokenizer.FREQ, tokenizer.total, tokenizer.initialized = frequencies, total, True
    return tokenizer


def _cache_path() -> Path:
    """A cache file named after jieba's version and its dictionary's size and time, so another
    jieba (or an edited dictionary) never reads stale tags."""
    dictionary = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    stat = dictionary.stat()
    return Path(tempfile.gettempdir()) / f"gridkb-jieba-tags-{jieba.__version__}-{stat.st_size}-{int(stat.st_mtime)}.marshal"


def _read(path: Path) -> dict[str, str] | None:
    try:
        tags = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None  # absent, unreadable or torn: read the dictionary as jieba does
    return tags if isinstance(tags, dict) and tags else None


def _write(path: Path, tags: dict[str, str]) -> None:
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            marshal.dump(tags, out)
        os.replace(temporary, path)  # atomic: a reader sees the old state or the whole file
    except OSError as error:  # a read-only temp folder costs time, never correctness
        log.debug("jieba tag cache not written: %s", error)


def posseg() -> ModuleType:
    """The ``jieba.posseg`` module, its default tagger holding the dictionary's word tags."""
    with _lock:
        if "jieba.posseg" in sys.modules:
            return sys.modules["jieba.posseg"]
        path = _cache_path()
        tags = _read(path)
        if tags is None:
            module = importlib.import_module("jieba.posseg")
            _write(path, module.dt.word_tag_tab)
            return module
        # the default tagger built at import reads its tags from ``get_dict_file()``: hand it an
        # empty file for that one read, then give it the cached tags
        jieba.dt.get_dict_file = lambda: io.BytesIO()  # type: ignore[method-assign]
        try:
            module = importlib.import_module("jieba.posseg")
        finally:
            del jieba.dt.get_dict_file
        module.dt.word_tag_tab = tags
        return module


def tagger(tokenizer: jieba.Tokenizer) -> jieba.posseg.POSTokenizer:
    """A tagger over ``tokenizer``. Over jieba's own dictionary it takes a copy of the default tagger's
    tags instead of reading them again (the copy, because adding words adds tags)."""
    module = posseg()
    default = module.dt
    if tokenizer.dictionary != default.tokenizer.dictionary:
        return module.POSTokenizer(tokenizer)
    tagging = object.__new__(module.POSTokenizer)  # its __init__ would read the dictionary's tags
    tagging.tokenizer = tokenizer
    tagging.word_tag_tab = dict(default.word_tag_tab)
    return tagging
