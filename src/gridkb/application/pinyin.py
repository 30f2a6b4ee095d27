"""Pinyin typed in place of Chinese (``dianfei weiyuejin``, ``jumin zhuang dianbiao``) → the words of
the knowledge base's own vocabulary that sound like it, so search and the domain check see 电费违约金."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pypinyin import lazy_pinyin

_LATIN_RUN = re.compile(r"[A-Za-z]+(?:\s+[A-Za-z]+)*")
_MIN_SYLLABLES = 2


class PinyinResolver:
    """Greedy longest match of toneless pinyin against a vocabulary (the more frequent word wins a tie)."""

    def __init__(self, words: Iterable[tuple[str, int]]) -> None:
        table: dict[str, tuple[str, int]] = {}
        for word, frequency in words:
            if not re.fullmatch(r"[\u4e00-\u9fff]{2,8}", word):
                continue
            key = "".join(lazy_pinyin(word))
            if key not in table or frequency > table[key][1]:
                table[key] = (word, frequency)
        self._table = {k: w for k, (w, _) in table.items()}
        self._longest = max((len(k) for k in self._table), default=0)

    def convert(self, text: str) -> str:
        """``text`` with every run of latin letters that spells vocabulary words replaced by them."""
        return _LATIN_RUN.sub(lambda m: self._convert_run(m.group(0)), text)

    def _convert_run(self, run: str) -> str:
        letters = re.sub(r"\s+", "", run).lower()
        if len(letters) < 4:
            return run  # APP, kWh, a name: too short to be pinyin worth converting
        out, i, converted = [], 0, 0
        while i < len(letters):
            for length in range(min(self._longest, len(letters) - i), 1, -1):
                word = self._table.get(letters[i : i + length])
                if word:
                    out.append(word)
                    converted += length
                    i += length
                    break
            else:
                out.append(letters[i])
                i += 1
        return "".join(out) if converted >= 0.5 * len(letters) else run
