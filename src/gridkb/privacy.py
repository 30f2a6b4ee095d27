"""Customer personal data (phone numbers, ID cards, account and bank-card numbers) masked wherever it
is shown or logged to someone who does not need it, and before anything reaches the index (Chroma
keeps a deleted record's text on disk).

Numbers are found however they are written: full-width digits (１３８…), separators
(138-1234-5678, 138 1234 5678, +86 138…), an ID card's trailing X. Matching runs on a folded copy
of the text with the same length, so only the digits of the original are starred and everything
else (the customer's spacing, full-width characters) stays as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_WIDE = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "Ｘ": "X", "ｘ": "x", "＋": "+", "－": "-", "（": "(", "）": ")",
     "\u3000": " ", "\xa0": " ", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-"}
)
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # digits of other scripts: folded one by one (rare)
_DIGIT = re.compile(r"[0-9]")
_SIGNIFICANT = "0123456789Xx"
_START = r"(?<![0-9A-Za-z+])(?<![0-9][.-])"
_END = r"(?![0-9A-Za-z]|[.-][0-9])"  # not part of a longer number (20261124-000123, 12345678.90)
_SEP = r"[ -]?"

# longest first: an 18-digit ID card must not be read as a phone number plus digits; each pass
# stars what it found, so a later pattern never sees it again
_ID_CARD = re.compile(rf"{_START}[0-9]{{6}}{_SEP}[0-9]{{8}}{_SEP}[0-9]{{3}}[0-9Xx]{_END}")
_BANK_CARD = re.compile(rf"{_START}[0-9]{{4}}(?:{_SEP}[0-9]{{4}}){{3}}(?:{_SEP}[0-9]{{1,3}})?{_END}")  # 16–19 digits
_PHONE = re.compile(rf"{_START}(?:(?:\+|00)86{_SEP}|\(\+?86\) ?)?(?P<number>1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}){_END}")
_LANDLINE = re.compile(rf"{_START}(?P<area>0[0-9]{{2,3}}-?)(?P<number>[0-9]{{7,8}}){_END}")
_NAMED_ACCOUNT = re.compile(r"(?:户号|用户编号|客户编号|账号|户名号|电表号|表号)\s*[:：是为]?\s*(?P<number>[0-9]{6,20})(?![0-9])")
_ACCOUNT = re.compile(rf"{_START}(?![48]00)[0-9]{{8,12}}{_END}")  # 户号 without its name: 8–12 digits (not a 400/800 hotline)


def _star(chars: list[str], folded: list[str], start: int, end: int, head: int, tail: int) -> None:
    """Star the digits between ``start`` and ``end`` except the first ``head`` and last ``tail``."""
    positions = [i for i in range(start, end) if folded[i] in _SIGNIFICANT]
    for i in positions[head : len(positions) - tail]:
        chars[i] = folded[i] = "*"


_Rule = tuple[re.Pattern[str], str, int, int]  # pattern, group to star (0: the whole match), digits kept at the head and tail
_RULES: tuple[_Rule, ...] = (
    (_ID_CARD, "0", 3, 4),
    (_BANK_CARD, "0", 4, 4),
    (_PHONE, "number", 3, 4),
    (_NAMED_ACCOUNT, "number", 2, 2),  # before landlines: a 户号 may start with 0
    (_LANDLINE, "number", 0, 3),
    (_ACCOUNT, "0", 2, 2),
)


def fold_digits(text: str) -> str:
    """``text`` with full-width (and other scripts') digits, X, plus signs, dashes and spaces in
    their ASCII form, character for character (same length)."""
    text = text.translate(_WIDE)
    if _OTHER_DIGIT.search(text):
        text = _OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(0))), text)
    return text


def mask_personal_data(text: str) -> str:
    """``text`` with ID cards, bank cards, phone numbers and account numbers partly starred.

    Enough is kept for a customer to recognise their own number (138****5678), never enough to use it.
    """
    if not text:
        return text
    folded_text = fold_digits(text)
    if not _DIGIT.search(folded_text):
        return text
    chars, folded = list(text), list(folded_text)
    for pattern, group, head, tail in _RULES:
        for match in pattern.finditer("".join(folded)):
            name: int | str = int(group) if group.isdigit() else group
            _star(chars, folded, match.start(name), match.end(name), head, tail)
    return "".join(chars)


_MASKED = re.compile(r"[0-9*]+(?:[ -][0-9*]+)*[Xx]?")  # a number masked already (139****5678, 6222 **** **** 5678)


def without_personal_data(text: str) -> str:
    """``text`` with its personal numbers (as ``mask_personal_data`` finds them, and numbers masked
    already) taken out: what a question asks does not depend on the customer's number, and the
    number must not reach a search index or a query cache."""
    if not text:
        return text
    folded = list(fold_digits(text))
    keep = [True] * len(text)
    for pattern in (*(rule[0] for rule in _RULES), _MASKED):
        for match in pattern.finditer("".join(folded)):
            if pattern is _MASKED and match.group(0).count("*") < 3:
                continue
            name = "number" if pattern is _NAMED_ACCOUNT else 0  # a number whole, with its +86 or area code; 户号 stays
            for i in range(match.start(name), match.end(name)):
                keep[i], folded[i] = False, " "  # later patterns do not see it again
    return "".join(c for c, k in zip(text, keep, strict=True) if k)


def mask_each(values: dict[str, object], mask: Callable[[str], str] = mask_personal_data) -> dict[str, object]:
    """A copy of ``values`` with every string masked (a ticket event's detail, a log record's fields)."""
    return {key: mask(value) if isinstance(value, str) else value for key, value in values.items()}


def contains_personal_data(text: str) -> bool:
    return mask_personal_data(text) != text
