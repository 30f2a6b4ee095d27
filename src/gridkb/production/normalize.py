"""Chinese text normalisation: traditional → simplified, inline pinyin, width, spacing.

The same functions serve documents and queries, so a customer typing 電費 finds 电费.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = "，。、；：？！“”‘’（）《》【】「」『』…—"
_PINYIN_LETTERS = "a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹ"

# 網(wǎng) / 網（wǎng）: a CJK character followed by its pinyin with a tone mark in brackets.
_INLINE_PINYIN = re.compile(
    rf"(?<=[{CJK}])[(（]\s*[{_PINYIN_LETTERS}]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹ][{_PINYIN_LETTERS}]*\s*[)）]"
)
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{CJK}{CJK_PUNCT}])[ \t\u3000\xa0]+(?=[{CJK}{CJK_PUNCT}])")
_HALF_PUNCT_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
_HALF_PUNCT_NEAR_CJK = re.compile(rf"(?<=[{CJK}])[,;:?!]|[,;:?!](?=[{CJK}])")
_PAREN_AROUND_CJK = re.compile(rf"\(([^()]*[{CJK}][^()]*)\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified (OpenCC t2s); simplified text is unchanged."""
    return _t2s().convert(text)


def strip_inline_pinyin(text: str) -> str:
    """Remove pinyin annotations printed after characters: ``網(wǎng)`` → ``網``."""
    return _INLINE_PINYIN.sub("", text)


def fold_width(text: str) -> str:
    """Full-width letters, digits and spaces → half-width; Chinese punctuation is kept full-width."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
            out.append(chr(code - 0xFEE0))
        elif ch in "\u3000\xa0":
            out.append(" ")
        elif ch in "．％＋－／＝":
            out.append(unicodedata.normalize("NFKC", ch))
        else:
            out.append(ch)
    return "".join(out)


def unify_punctuation(text: str) -> str:
    """Half-width punctuation inside Chinese text → its full-width form (better sentence splits)."""
    text = _PAREN_AROUND_CJK.sub(r"（\1）", text)
    return _HALF_PUNCT_NEAR_CJK.sub(lambda m: _HALF_PUNCT_TO_FULL[m.group(0)], text)


# what no store, index or JSON encoder should receive: C0/C1 controls but tab and line breaks, lone surrogates
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text as it may enter gridkb from a person (API, CLI): control characters (NUL …) and lone
    surrogates removed, surrounding whitespace trimmed; nothing else changed."""
    return _UNSAFE.sub("", text).strip()


def normalize_line(text: str) -> str:
    """Normalise one line of document or query text. Never inserts spaces into Chinese."""
    text = _CONTROL.sub("", text)
    text = strip_inline_pinyin(text)
    text = to_simplified(text)
    text = fold_width(text)
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = unify_punctuation(text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def normalize_query(text: str) -> str:
    """Normalise a user's question: like document text, plus collapsing noise characters."""
    text = normalize_line(text.replace("\n", " "))
    text = re.sub(r"([？！。，~～])\1+", r"\1", text)  # "？？？" → "？"
    return text.strip()


def compact(text: str) -> str:
    """Text without any whitespace, for comparisons that must ignore spacing (5 个工作日 = 5个工作日)."""
    return re.sub(r"\s+", "", fold_width(text))
