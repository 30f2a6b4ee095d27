"""Pinyin typed in place of Chinese (``dianfei weiyuejin``, ``jumin zhuang dianbiao``) → the words of
the knowledge base's own vocabulary that sound like it, so search and the domain check see 电费违约金.

Also the commonest typo of a pinyin keyboard: the wrong character of the right sound (用店 → 用电,
枪修 → 抢修, 充电庄 → 充电桩). A word that neither the knowledge base nor the general dictionary
knows, and that sounds exactly like a word of the knowledge base, is taken to be that word."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property

_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{1,4}")
# characters of grammar that jieba glues to a neighbour (点能, 不退, 要离): such a pair is no typo
_GRAMMAR = re.compile(r"[不了能的是吗呢啊会]")
_LATIN_RUN = re.compile(r"[A-Za-z]+(?:\s+[A-Za-z]+)*")
_MIN_SYLLABLES = 2


def _pinyin_of(word: str) -> str:
    # imported on first use: pypinyin's phrase tables take 0.25 s to import, and most questions,
    # typed in Chinese with every word known, never need them
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word))


class PinyinResolver:
    """Greedy longest match of toneless pinyin against a vocabulary (the more frequent word wins a tie).

    ``vocabulary`` is called, and the table built, the first time a question needs it."""

    def __init__(self, vocabulary: Callable[[], Iterable[tuple[str, int]]]) -> None:
        self._vocabulary = vocabulary

    @cached_property
    def _table(self) -> dict[str, str]:
        table: dict[str, tuple[str, int]] = {}
        for word, frequency in self._vocabulary():
            if not re.fullmatch(r"[\u4e00-\u9fff]{2,8}", word):
                continue
            key = _pinyin_of(word)
            if key not in table or frequency > table[key][1]:
                table[key] = (word, frequency)
        return {k: w for k, (w, _) in table.items()}

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
        match = self._table.get(_pinyin_of(word))
        return match if match and match != word else None
