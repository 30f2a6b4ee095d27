"""CSV and XLSX: FAQ sheets (问题/答案 columns) become FAQ records; any other sheet becomes table rows."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl

from gridkb.errors import CorruptFileError
from gridkb.production.encoding import decode_text
from gridkb.production.loaders.base import (
    ARCHIVE_ERRORS,
    Extracted,
    FaqRow,
    faq_blocks,
    faq_row_from_record,
    is_faq_header,
    table_row_block,
)
from gridkb.records import Block


def _from_rows(rows: list[list[str]]) -> tuple[list[Block], list[FaqRow]]:
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return [], []
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if is_faq_header(header):
        faqs = [f for i, r in enumerate(body, start=2) if (f := faq_row_from_record(dict(zip(header, r)), i))]
        return faq_blocks(faqs), faqs
    return [b for r in body if (b := table_row_block(header, r))], []


def load_csv(path: Path, data: bytes, encoding: str | None = None) -> Extracted:
    text = decode_text(data, str(path), encoding)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as exc:  # e.g. a line break inside an unquoted field under a sniffed dialect
        raise CorruptFileError(str(path), f"malformed CSV: {exc}") from None
    blocks, faqs = _from_rows(rows)
    return Extracted(blocks, text, "", faqs)


def load_xlsx(path: Path, data: bytes, encoding: str | None = None) -> Extracted:
    try:
        sheets = _sheet_rows(data)
    except (*ARCHIVE_ERRORS, ValueError) as exc:
        raise CorruptFileError(str(path), f"corrupt XLSX: {exc}") from None
    blocks: list[Block] = []
    faqs: list[FaqRow] = []
    raw: list[str] = []
    for rows in sheets:
        raw.extend("\t".join(r) for r in rows)
        sheet_blocks, sheet_faqs = _from_rows(rows)
        blocks.extend(sheet_blocks)
        faqs.extend(sheet_faqs)
    return Extracted(blocks, "\n".join(raw), "", faqs)


def _sheet_rows(data: bytes) -> list[list[list[str]]]:
    """Every sheet's rows as text. Read-only workbooks parse a sheet while it is read: a damaged
    file fails here, not only when opened."""
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return [[["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets]
    finally:
        workbook.close()
