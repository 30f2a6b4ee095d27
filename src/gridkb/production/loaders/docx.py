"""Word documents: heading styles, list paragraphs and tables, in document order."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from gridkb.errors import CorruptFileError
from gridkb.production.loaders.base import ARCHIVE_ERRORS, Extracted, heading, table_row_block
from gridkb.production.normalize import normalize_line
from gridkb.production.structure import classify_line
from gridkb.records import Block, BlockKind

_HEADING_STYLE = re.compile(r"^(?:Heading|标题)\s*(\d)$", re.I)


def load_docx(path: Path, data: bytes, encoding: str | None = None) -> Extracted:
    try:
        document = docx.Document(io.BytesIO(data))
        return _content(document)  # parts such as styles are read when first used
    except (*ARCHIVE_ERRORS, ValueError) as exc:
        raise CorruptFileError(str(path), f"corrupt DOCX: {exc}") from None


def _content(document: DocxDocument) -> Extracted:
    blocks: list[Block] = []
    raw: list[str] = []
    title = normalize_line(document.core_properties.title or "")
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            raw.append(item.text)
            if block := _paragraph_block(item):
                if block.kind is BlockKind.HEADING and block.level == 0:  # "Title" style
                    title = title or block.text
                    continue
                blocks.append(block)
        elif isinstance(item, Table):
            rows = [[cell.text for cell in row.cells] for row in item.rows]
            raw.extend("\t".join(r) for r in rows)
            if rows:
                blocks.extend(b for r in rows[1:] if (b := table_row_block(rows[0], r)))
    return Extracted(blocks, "\n".join(raw), title)


def _paragraph_block(paragraph: Paragraph) -> Block | None:
    text = normalize_line(paragraph.text)
    if not text:
        return None
    style = paragraph.style.name if paragraph.style is not None else ""
    if style == "Title":
        return Block(BlockKind.HEADING, text, 0)
    if m := _HEADING_STYLE.match(style):
        return heading(text, int(m.group(1)))
    if "List" in style or classify_line(text).kind is BlockKind.LIST_ITEM:
        return Block(BlockKind.LIST_ITEM, text)
    return Block(BlockKind.PARAGRAPH, text)
