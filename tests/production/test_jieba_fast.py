"""The tokenizer and tagger started from caches cut and tag exactly as jieba's own, in fresh interpreters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SENTENCE = "居民客户申请峰谷分时电价需要带身份证吗，电费怎么交"

TAGS_OF = f"""
import json, sys
from gridkb.production.jieba_fast import posseg, tagger
import jieba
module = posseg()
pairs = [(p.word, p.flag) for p in tagger(jieba.Tokenizer()).cut({SENTENCE!r})]
print(json.dumps({{"pairs": pairs, "tags": len(module.dt.word_tag_tab)}}))
"""

JIEBA_OWN = f"""
import json, jieba, jieba.posseg
print(json.dumps([(p.word, p.flag) for p in jieba.posseg.POSTokenizer(jieba.Tokenizer()).cut({SENTENCE!r})]))
"""


def run(code: str, tmp: Path) -> object:
    env = {**os.environ, "TMPDIR": str(tmp)}
    return json.loads(subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout)


def test_tags_from_the_cache_equal_jiebas_own(tmp_path: Path) -> None:
    expected = [tuple(p) for p in run(JIEBA_OWN, tmp_path)]
    first = run(TAGS_OF, tmp_path)  # reads the dictionary, writes the cache
    assert len(list(tmp_path.glob("gridkb-jieba-tags-*.marshal"))) == 1
    second = run(TAGS_OF, tmp_path)  # reads the cache
    assert [tuple(p) for p in first["pairs"]] == [tuple(p) for p in second["pairs"]] == expected
    assert first["tags"] == second["tags"] > 300_000


def test_a_torn_cache_is_read_as_jieba_does(tmp_path: Path) -> None:
    run(TAGS_OF, tmp_path)
    cache = next(tmp_path.glob("gridkb-jieba-tags-*.marshal"))
    cache.write_bytes(cache.read_bytes()[:1000])
    assert [tuple(p) for p in run(TAGS_OF, tmp_path)["pairs"]] == [tuple(p) for p in run(JIEBA_OWN, tmp_path)]
    assert len(cache.read_bytes()) > 1000  # and written whole again


CUTS = f"""
import json
from gridkb.production.jieba_fast import tokenizer
import jieba
ours, theirs = tokenizer(), jieba.Tokenizer()
print(json.dumps([list(ours.cut({SENTENCE!r})), list(theirs.cut({SENTENCE!r})), ours.total == theirs.total]))
"""


def test_the_tokenizer_from_jiebas_cache_cuts_as_jieba(tmp_path: Path) -> None:
    first = run(CUTS, tmp_path)  # no cache yet: jieba builds and writes it
    assert (tmp_path / "jieba.cache").is_file()
    second = run(CUTS, tmp_path)  # read with marshal.loads
    assert first[0] == first[1] == second[0] == second[1] and first[2] and second[2]
    (tmp_path / "jieba.cache").write_bytes(b"torn")
    assert run(CUTS, tmp_path)[0] == first[1]  # a torn cache is rebuilt, as jieba does
