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
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import jieba

from gridkb.storage.file_memo import memo_path, read_memo, write_memo

if TYPE_CHECKING:
    import jieba.posseg

_lock = threading.Lock()


def tokenizer() -> jieba.Tokenizer:
    """A tokenizer over jieba's default dictionary, initialised from jieba's own cache when there is
    one (as ``Tokenizer.initialize`` would, only faster), else by jieba (which writes the cache)."""
    tokenizer = jieba.Tokenizer()
    cached = read_memo(memo_path("jieba.cache"))  # jieba's own cache of its default dictionary
    if not (isinstance(cached, tuple) and len(cached) == 2):
        tokenizer.initialize()
        return tokenizer
    frequencies, total = cached
    with tokenizer.lock:
        tokenizer.FREQ, tokenizer.total, tokenizer.initialized = frequencies, total, True
    return tokenizer


def _cache_path() -> Path:
    """A cache file named after jieba's version and its dictionary's size and time, so another
    jieba (or an edited dictionary) never reads stale tags."""
    dictionary = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    stat = dictionary.stat()
    return memo_path(f"gridkb-jieba-tags-{jieba.__version__}-{stat.st_size}-{int(stat.st_mtime)}.marshal")


def posseg() -> ModuleType:
    """The ``jieba.posseg`` module, its default tagger holding the dictionary's word tags."""
    with _lock:
        if "jieba.posseg" in sys.modules:
            return sys.modules["jieba.posseg"]
        path = _cache_path()
        tags = read_memo(path)
        if not isinstance(tags, dict) or not tags:
            module = importlib.import_module("jieba.posseg")
            write_memo(path, module.dt.word_tag_tab)
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
