"""Customer personal data (phone numbers, ID cards, account and bank-card numbers) masked wherever it
is shown or logged to someone who does not need it, and before anything reaches the index (Chroma
keeps a deleted record's text on disk).
"""

from __future__ import annotations

import re

# longest first: an 18-digit ID card must not be read as a phone number plus digits
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z-])")
_BANK_CARD = re.compile(r"(?<![\dA-Za-z])(\d{4})((?:[ -]?\d{4}){2,3})([ -]?\d{1,4})(?![\dA-Za-z-])")
_PHONE = re.compile(r"(?<![\dA-Za-z])(1[3-9]\d)(\d{4})(\d{4})(?![\dA-Za-z-])")
_LANDLINE = re.compile(r"(?<![\dA-Za-z])(0\d{2,3}-?)(\d{4})(\d{3,4})(?![\dA-Za-z-])")
_ACCOUNT = re.compile(r"(?<![\dA-Za-z])(\d{2})(\d{4,8})(\d{2})(?![\dA-Za-z-])")  # 户号: 8–12 digits
_NAMED_ACCOUNT = re.compile(r"((?:户号|账号|户名号|电表号|表号)\s*[:：是为]?\s*)(\d{6,20})")


def _stars(text: str) -> str:
    return re.sub(r"\d", "*", text)


def mask_personal_data(text: str) -> str:
    """``text`` with ID cards, bank cards, phone numbers and account numbers partly starred.

    Enough is kept for a customer to recognise their own number (138****5678), never enough to use it.
    """
    if not text:
        return text
    text = _ID_CARD.sub(lambda m: m.group(1)[:3] + "*" * 11 + m.group(3)[-4:], text)
    text = _PHONE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    text = _BANK_CARD.sub(lambda m: m.group(1) + _stars(m.group(2)) + m.group(3), text)
    text = _LANDLINE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    text = _NAMED_ACCOUNT.sub(lambda m: m.group(1) + m.group(2)[:2] + "*" * (len(m.group(2)) - 4) + m.group(2)[-2:], text)
    return _ACCOUNT.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


def contains_personal_data(text: str) -> bool:
    return mask_personal_data(text) != text
