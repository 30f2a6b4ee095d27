"""Builders for small binary fixture files, made at test time from text (no binaries in tests/)."""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas


def make_pdf(path: Path, pages: list[list[str]], header: str = "") -> Path:
    """A text PDF with one line per string; ``header`` is repeated at the top of every page."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path), invariant=1)
    for number, lines in enumerate(pages, start=1):
        pdf.setFont("STSong-Light", 10)
        if header:
            pdf.drawString(50, 810, header)
        pdf.drawCentredString(297, 30, f"- {number} -")
        y = 780
        for line in lines:
            pdf.drawString(50, y, line)
            y -= 18
        pdf.showPage()
    pdf.save()
    return path


def make_docx(path: Path, title: str, sections: list[tuple[str, list[str]]], table: list[list[str]] | None = None) -> Path:
    document = docx.Document()
    document.add_paragraph(title, style="Title")
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for text in paragraphs:
            style = "List Bullet" if text.startswith("- ") else None
            document.add_paragraph(text.removeprefix("- "), style=style)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for i, row in enumerate(table):
            for j, cell in enumerate(row):
                grid.cell(i, j).text = cell
    document.save(path)
    return path


def make_xlsx(path: Path, rows: list[list[str]]) -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path
