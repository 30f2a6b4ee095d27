"""JSON FAQ files: a list of {question, answer, category?, similar?} (or {"faqs": [...]})."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from gridkb.errors import CorruptFileError, UnsupportedFormatError
from gridkb.production.encoding import decode_text
from gridkb.production.loaders.base import Extracted, faq_blocks, faq_row_from_record


def load_json(path: Path, data: bytes, encoding: str | None = None) -> Extracted:
    text = decode_text(data, str(path), encoding)
    try:
        payload: Any = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise CorruptFileError(str(path), f"invalid JSON: {exc}") from None
    title = ""
    if isinstance(payload, dict):
        title = str(payload.get("title", ""))
        payload = payload.get("faqs", payload.get("items", payload.get("data")))
    if not isinstance(payload, list) or not all(isinstance(x, dict) for x in payload):
        raise UnsupportedFormatError(str(path), "JSON must be a list of {question, answer} objects (or {\"faqs\": [...]})")
    faqs = [f for i, record in enumerate(payload, start=1) if (f := faq_row_from_record(record, i))]
    if payload and not faqs:
        raise UnsupportedFormatError(str(path), "JSON objects have no question/answer fields")
    return Extracted(faq_blocks(faqs), text, title, faqs)
