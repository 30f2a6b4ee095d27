"""Pinyin typed in place of Chinese (``dianfei weiyuejin``, ``jumin zhuang dianbiao``) → the words of
the knowledge base's own vocabulary that sound like it, so search and the domain check see 电费违约金.

Also the commonest typo of a pinyin keyboard: the wrong character of the right sound (用店 → 用电,
枪修 → 抢修, 充电庄 → 充电桩). A word that neither the knowledge base nor the general dictionary
knows, and that sounds exactly like a word of the knowledge base, is taken to be that word."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import cache, cached_property
from importlib.metadata import version
from pathlib import Path

from gridkb.storage.file_memo import memo_path, read_memo, write_memo

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{1,4}")
# characters of grammar that jieba glues to a neighbour (点能, 不退, 要离): such a pair is no typo
_GRAMMAR = re.compile(r"[不了能的是吗呢啊会]")
_LATIN_RUN = re.compile(r"[A-Za-z]+(?:\s+[A-Za-z]+)*")
_MIN_SYLLABLES = 2
_MAX_READINGS = 64  # combinations of a word's character readings tried before asking pypinyin itself


def _pinyin_of(word: str) -> str:
    # imported on first use: pypinyin's phrase tables take 0.25–0.3 s to import, and most questions
    # never need them (see ``_may_sound_like``)
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word))


@cache
def _reading_table() -> dict[str, str]:
    """pypinyin's own table of every character's readings (code point → "zhōng,zhòng"), read from its
    data file without importing pypinyin, whose import loads the 400,000-phrase table too."""
    spec = importlib.util.find_spec("pypinyin")
    assert spec is not None and spec.origin is not None, "pypinyin is a dependency"
    return json.loads(Path(spec.origin).with_name("pinyin_dict.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of ``char``, as pypinyin writes them (绿 → lv, lu)."""
    raw = _reading_table().get(str(ord(char)), "")
    return tuple(dict.fromkeys(_toneless(r) for r in raw.split(",") if r))


def _toneless(reading: str) -> str:
    marks_off = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c) or c == "\u0308")
    return unicodedata.normalize("NFC", marks_off).replace("ü", "v")


def _may_sound_like(word: str, table: dict[str, str]) -> bool:
    """False when no reading of ``word``'s characters spells a key of ``table``. pypinyin reads a word
    with one of each character's readings (its phrase table picks which: all but 5 of its 412,000
    phrases keep to the characters' own readings), so then pypinyin's reading is no key either."""
    options = [readings(c) for c in word]
    if not all(options) or math.prod(len(o) for o in options) > _MAX_READINGS:
        return True  # a character without a reading, or too many combinations: ask pypinyin
    return any("".join(combination) in table for combination in itertools.product(*options))


class PinyinResolver:
    """Greedy longest match of toneless pinyin against a vocabulary (the more frequent word wins a tie).

    ``vocabulary`` is called, and the table built, the first time a question needs it."""

    def __init__(self, vocabulary: Callable[[], Iterable[tuple[str, int]]], syllables: Callable[[], Iterable[str]] = tuple) -> None:
        """``syllables``: single characters, in order of preference, that a lone syllable left between
        converted words may stand for (the actions and particles of questions: jiao → 交, le → 了)."""
        self._vocabulary = vocabulary
        self._syllables = syllables

    @cached_property
    def _table(self) -> dict[str, str]:
        """Pinyin → vocabulary word; kept between processes (building it needs pypinyin: 0.3 s)."""
        words = [(w, f) for w, f in self._vocabulary() if re.fullmatch(r"[\u4e00-\u9fff]{2,8}", w)]  # in order: the first wins a tie
        digest = hashlib.sha1(repr((version("pypinyin"), words)).encode()).hexdigest()[:16]
        path = memo_path(f"gridkb-pinyin-{digest}.marshal")
        cached = read_memo(path)
        if isinstance(cached, dict):
            return cached
        table: dict[str, tuple[str, int]] = {}
        for word, frequency in words:
            key = _pinyin_of(word)
            if key not in table or frequency > table[key][1]:
                table[key] = (word, frequency)
        built = {k: w for k, (w, _) in table.items()}
        write_memo(path, built)
        return built

    @cached_property
    def _longest(self) -> int:
        return max((len(k) for k in self._table), default=0)

    def warm_up(self) -> None:
        """Build the table now (a server does, so that no customer's question waits for it)."""
        _ = self._longest

    def convert(self, text: str) -> str:
        """``text`` with every run of latin letters that spells vocabulary words replaced by them."""
        return _LATIN_RUN.sub(lambda m: self._convert_run(m.group(0)), text)

    def _convert_run(self, run: str) -> str:
        letters = re.sub(r"\s+", "", run).lower()
        if len(letters) < 4:
            return run  # APP, kWh, a name: too short to be pinyin worth converting
        pieces: list[tuple[str, bool]] = []  # (text, converted): words, and runs of letters left over
        i, converted = 0, 0
        while i < len(letters):
            for length in range(min(self._longest, len(letters) - i), 1, -1):
                word = self._table.get(letters[i : i + length])
                if word:
                    pieces.append((word, True))
                    converted += length
                    i += length
                    break
            else:
                text = pieces.pop()[0] + letters[i] if pieces and not pieces[-1][1] else letters[i]
                pieces.append((text, False))
                i += 1
        if converted < 0.5 * len(letters):
            return run  # not pinyin: an English word, a brand, a code
        # pinyin, then: syllables left over between words are read as a question's actions and particles
        return "".join(text if done else self._lone_syllables(text) for text, done in pieces)

    def _lone_syllables(self, letters: str) -> str:
        """``letters`` as characters of ``syllables`` (youma → 有吗), when they spell such syllables only."""
        out, i = [], 0
        while i < len(letters):
            for length in range(min(6, len(letters) - i), 0, -1):  # the longest pinyin syllable has 6 letters
                char = self._syllable_table.get(letters[i : i + length])
                if char:
                    out.append(char)
                    i += length
                    break
            else:
                return letters
        return "".join(out)

    @cached_property
    def _syllable_table(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for char in self._syllables():
            for reading in readings(char)[:1]:  # a character's first reading is pypinyin's for it alone
                table.setdefault(reading, char)
        return table

    def correct(self, tokens: Sequence[str], is_known: Callable[[str], bool]) -> str:
        """The text of ``tokens`` (a jieba cut with new-word guessing) with homophone typos replaced.

        ``is_known(word)``: the word is right as written (in the knowledge base or the dictionary).
        An unknown word is matched whole, else by its first or last two characters (多九能 → 多久能);
        a lone character is tried with a neighbouring word (jieba splits 充电庄 into 充电/庄). Two lone
        characters are never joined: too many everyday pairs sound like some word of the corpus.
        """
        out = list(tokens)
        for i, token in enumerate(out):
            if not _CJK_WORD.fullmatch(token):
                continue
            if len(token) >= 2:
                if not is_known(token):
                    out[i] = self._fix_word(token) or token
            else:
                for start in (i - 1, i):
                    pair = out[start : start + 2] if start >= 0 else []
                    if len(pair) == 2 and all(_CJK_WORD.fullmatch(p) for p in pair) and min(map(len, pair)) == 1 < max(map(len, pair)):
                        merged = "".join(pair)
                        word = None if is_known(merged) else self._sounds_like(merged)
                        if word:
                            out[start], out[start + 1] = word, ""
                            break
        return "".join(out)

    def _fix_word(self, token: str) -> str | None:
        if len(token) == 2:
            return None if _GRAMMAR.search(token) else self._sounds_like(token)
        if word := self._sounds_like(token):
            return word
        for head, tail in ((token[:2], token[2:]), (token[:-2], token[-2:])):
            part = head if len(head) == 2 else tail
            if not _GRAMMAR.search(part) and (word := self._sounds_like(part)):
                return word + tail if part is head else head + word
        return None

    def _sounds_like(self, word: str) -> str | None:
        if not _may_sound_like(word, self._table):
            return None
        match = self._table.get(_pinyin_of(word))
        return match if match and match != word else None
