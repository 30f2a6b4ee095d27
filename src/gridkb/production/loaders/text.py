"""Plain text and Markdown."""

from __future__ import annotations

import re
from pathlib import Path

from gridkb.production.encoding import decode_text
from gridkb.production.loaders.base import Extracted, FaqRow, faq_blocks, heading, table_row_block
from gridkb.production.meta import split_front_matter
from gridkb.production.normalize import normalize_line
from gridkb.production.structure import _LIST_ITEM, plain_blocks
from gridkb.records import Block, BlockKind

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_BULLET = re.compile(r"^\s*[-*+]\s+(.+)$")
_MD_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_FAQ_Q = re.compile(r"^\s*(?:\*\*)?(?:问|Q)\s*[：:]\s*(?:\*\*)?\s*(.+)$")
_FAQ_A = re.compile(r"^\s*(?:\*\*)?(?:答|A)\s*[：:]\s*(?:\*\*)?\s*(.*)$")
_FAQ_SIMILAR = re.compile(r"^\s*(?:\*\*)?(?:相似问法|相似问题)\s*[：:]\s*(?:\*\*)?\s*(.*)$")
_MD_INLINE = re.compile(r"(\*\*|__|`)")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def load_txt(path: Path, data: bytes, encoding: str | None = None) -> Extracted:
    text = decode_text(data, str(path), encoding)
    return Extracted(plain_blocks(text.splitlines()), text)


def _strip_inline(line: str) -> str:
    return _MD_INLINE.sub("", _MD_LINK.sub(r"\1", line))


def load_md(path: Path, data: bytes, encoding: str | None = None) -> Extracted:
    text = decode_text(data, str(path), encoding)
    front, body = split_front_matter(text, str(path))
    lines = body.splitlines()
    faqs = _markdown_faqs(lines)
    if faqs and (str(front.get("doc_type", "")).upper() == "FAQ" or len(faqs) >= 3):
        title = next((normalize_line(m.group(2)) for x in lines if (m := _MD_HEADING.match(x))), "")
        return Extracted(faq_blocks(faqs), text, title, faqs, front)
    return Extracted(_markdown_blocks(lines), text, "", [], front)


def _markdown_blocks(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []
    table_header: list[str] | None = None

    def flush() -> None:
        if paragraph:
            joined = normalize_line("".join(p.strip() for p in paragraph))
            if joined:
                blocks.append(Block(BlockKind.PARAGRAPH, joined))
            paragraph.clear()

    for raw in lines:
        line = _strip_inline(raw.rstrip())
        if not line.strip():
            flush()
            table_header = None
            continue
        if m := _MD_HEADING.match(line):
            flush()
            if h := heading(m.group(2), len(m.group(1))):
                blocks.append(h)
        elif line.lstrip().startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if _MD_TABLE_SEPARATOR.match(line):
                continue
            if table_header is None:
                table_header = cells
            elif row := table_row_block(table_header, cells):
                blocks.append(row)
        elif (m := _MD_BULLET.match(line)) or _LIST_ITEM.match(line.strip()):
            flush()
            # a bullet's marker carries nothing; a number ("1.", "a)") does, so it stays
            if item := normalize_line(m.group(1) if m else line.strip()):
                blocks.append(Block(BlockKind.LIST_ITEM, item))
        elif line.lstrip().startswith(">"):
            paragraph.append(line.lstrip()[1:])
        else:
            paragraph.append(line)
    flush()
    return blocks


def _markdown_faqs(lines: list[str]) -> list[FaqRow]:
    """问：/答： paragraphs, each question optionally followed by a 相似问法： line (wordings separated
    by |); an answer runs until the next question, wordings line or heading."""
    faqs: list[FaqRow] = []
    question: str | None = None
    answer: list[str] = []
    similar: list[str] = []

    def close() -> None:
        if question and answer:
            text = normalize_line("".join(a.strip() for a in answer))
            wordings = tuple(w for w in dict.fromkeys(normalize_line(s) for s in similar) if w and w != question)
            if text:
                faqs.append(FaqRow(question, text, similar=wordings, row=len(faqs) + 1))

    for raw in lines:
        line = _strip_inline(raw)
        if m := _FAQ_Q.match(line):
            close()
            question, answer, similar = normalize_line(m.group(1)), [], []
        elif question is not None and (m := _FAQ_SIMILAR.match(line)):
            similar += re.split(r"[|｜]", m.group(1))
        elif question is not None and (m := _FAQ_A.match(line)):
            answer = [m.group(1)]
        elif _MD_HEADING.match(line):
            close()
            question, answer = None, []
        elif question is not None and answer and line.strip():
            answer.append(line)
    close()
    return faqs
