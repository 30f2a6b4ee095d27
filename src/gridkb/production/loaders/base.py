"""What every loader returns, and the helpers loaders share."""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gridkb.production.normalize import normalize_line
from gridkb.records import Block, BlockKind

# what a damaged Office file (a zip of XML parts) raises while it is opened or read: a bad archive,
# a truncated or corrupt deflate stream, a missing part, broken XML (lxml's errors are SyntaxErrors),
# a damaged header that names an unknown zip version or compression method (NotImplementedError)
ARCHIVE_ERRORS: tuple[type[Exception], ...] = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, SyntaxError, NotImplementedError)

FAQ_QUESTION_KEYS = ("问题", "question", "标准问", "q")
FAQ_ANSWER_KEYS = ("答案", "answer", "答复", "a")
FAQ_CATEGORY_KEYS = ("类别", "category", "分类")
FAQ_SIMILAR_KEYS = ("相似问法", "similar", "相似问题")


@dataclass
class FaqRow:
    """A question–answer pair as read from a sheet, before ids are assigned."""

    question: str
    answer: str
    category: str = ""
    similar: tuple[str, ...] = ()
    row: int = 0


@dataclass
class Extracted:
    """A loader's output: normalised blocks, FAQ rows, the raw text and any embedded metadata."""

    blocks: list[Block]
    original_text: str
    title: str = ""
    faqs: list[FaqRow] = field(default_factory=list)
    front_matter: dict[str, Any] = field(default_factory=dict)


def heading(text: str, level: int) -> Block | None:
    clean = normalize_line(text)
    return Block(BlockKind.HEADING, clean, level) if clean else None


def faq_blocks(rows: Iterable[FaqRow]) -> list[Block]:
    """FAQ pairs as blocks: the question is the section heading, the answer its body."""
    blocks: list[Block] = []
    for row in rows:
        blocks.append(Block(BlockKind.HEADING, row.question, 1))
        blocks.append(Block(BlockKind.PARAGRAPH, row.answer))
    return blocks


def _pick(record: dict[str, Any], keys: tuple[str, ...]) -> str:
    lowered = {str(k).strip().lower(): v for k, v in record.items()}
    for key in keys:
        value = lowered.get(key)
        if value is not None and str(value).strip():
            return str(value)
    return ""


def faq_row_from_record(record: dict[str, Any], row: int) -> FaqRow | None:
    """An FAQ row from a mapping with question/answer columns (Chinese or English names); None if empty."""
    question = normalize_line(_pick(record, FAQ_QUESTION_KEYS))
    answer = normalize_line(_pick(record, FAQ_ANSWER_KEYS).replace("\n", " "))
    if not question or not answer:
        return None
    similar_raw = record.get("similar") if isinstance(record.get("similar"), list) else _pick(record, FAQ_SIMILAR_KEYS)
    if isinstance(similar_raw, list):
        parts = [str(s) for s in similar_raw]
    else:
        parts = re.split(r"[|｜\n]", similar_raw or "")
    similar = tuple(s for s in (normalize_line(p) for p in parts) if s and s != question)
    category = _pick(record, FAQ_CATEGORY_KEYS).strip()
    return FaqRow(question, answer, category, similar, row)


def is_faq_header(header: Iterable[str]) -> bool:
    names = {str(h).strip().lower() for h in header}
    return bool(names & set(FAQ_QUESTION_KEYS)) and bool(names & set(FAQ_ANSWER_KEYS))


def table_row_block(header: list[str], values: list[str]) -> Block | None:
    """A table row as one block, "表头：值；表头：值", so every row stays readable on its own."""
    cells = [(normalize_line(h), normalize_line(v)) for h, v in zip(header, values)]
    parts = [f"{h}：{v}" if h else v for h, v in cells if v]
    if not parts:
        return None
    return Block(BlockKind.TABLE_ROW, "；".join(parts))
