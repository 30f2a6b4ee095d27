"""Decode the bytes of a text file: UTF-8 (with or without BOM), GB18030/GBK or Big5, never assumed."""

from __future__ import annotations

import re

from gridkb.errors import DecodeError, UnsupportedFormatError

_CANDIDATES = ("gb18030", "big5")
_COMMON_CJK = re.compile(r"[\u4e00-\u9fff]")


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KiB mean the file is not text."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return bool(head) and controls / len(head) > 0.05


def _plausibility(text: str) -> float:
    """Share of characters that are common CJK, ASCII or CJK punctuation; wrong decodings score low."""
    if not text:
        return 0.0
    good = 0
    for ch in text:
        if ch.isascii() or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef":
            good += 1
        elif _COMMON_CJK.match(ch):
            # characters outside GB2312 are rare in real Chinese text; Big5 read as GBK yields many
            try:
                ch.encode("gb2312")
                good += 1
            except UnicodeEncodeError:
                try:
                    ch.encode("big5")
                    good += 0.9
                except UnicodeEncodeError:
                    good += 0.2
    return good / len(text)


def decode_text(data: bytes, path: str, declared: str | None = None) -> str:
    """Return the text of ``data``; raises DecodeError when no supported encoding fits."""
    if looks_binary(data):
        raise UnsupportedFormatError(path, "binary content in a text file")
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError) as exc:
            raise DecodeError(path, f"not valid {declared}: {exc}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    scored: list[tuple[float, str]] = []
    for encoding in _CANDIDATES:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        scored.append((_plausibility(text), text))
    if not scored:
        raise DecodeError(path, "undecodable: not UTF-8, GB18030/GBK or Big5")
    score, text = max(scored, key=lambda pair: pair[0])
    if score < 0.8:
        raise DecodeError(path, "undecodable: the bytes decode only to implausible characters")
    return text
