"""Rebuild the binary corpus documents (DOCX, PDF, XLSX) from their text sources.

    python scripts/build_corpus_binaries.py [--sources scripts/corpus_sources] [--corpus corpus]

Sources: ``docx/*.md`` and ``pdf/*.md`` (Markdown with YAML front matter; ``audience`` picks
``corpus/public`` or ``corpus/internal``) and ``xlsx/*.csv`` (an FAQ sheet, with a
``<name>.csv.meta.yaml`` sidecar). Each output gets a ``<file>.meta.yaml`` sidecar with the
front matter. PDFs are laid out like real exported notices: wrapped lines that break sentences,
a running header and page numbers, which ingestion must clean up. Output is byte-for-byte
reproducible (fixed timestamps), so rebuilding an unchanged source changes nothing in git.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
from pathlib import Path

import docx
import openpyxl
import yaml
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FIXED_TIME = dt.datetime(2025, 1, 1, 8, 0, 0)
FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
FONT = "STSong-Light"  # Adobe CID font built into reportlab: no font file needed, text extracts cleanly


def split_front(text: str) -> tuple[dict, str]:
    m = FRONT.match(text)
    if not m:
        raise SystemExit("source without front matter (audience needed)")
    return yaml.safe_load(m.group(1)) or {}, text[m.end():]


def target(corpus: Path, meta: dict, name: str) -> Path:
    folder = corpus / ("internal" if meta.get("audience") == "internal" else "public")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def write_sidecar(out: Path, meta: dict) -> None:
    meta = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in meta.items()}
    out.with_name(out.name + ".meta.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")


def clean_inline(text: str) -> str:
    return re.sub(r"(\*\*|__|`)", "", text)


# ---------------------------------------------------------------- DOCX
def build_docx(source: Path, corpus: Path) -> Path:
    meta, body = split_front(source.read_text(encoding="utf-8"))
    document = docx.Document()
    props = document.core_properties
    props.title, props.author = meta.get("title", source.stem), meta.get("issuer", "示例供电局")
    props.created = props.modified = FIXED_TIME
    props.last_modified_by = "gridkb"
    table_rows: list[list[str]] = []

    def flush_table() -> None:
        rows = [r for r in table_rows if not all(re.fullmatch(r":?-{2,}:?", c) for c in r)]
        if rows:
            table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            table.style = "Table Grid"
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = clean_inline(cell)
        table_rows.clear()

    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("|"):
            table_rows.append([c.strip() for c in stripped.strip("|").split("|")])
            continue
        flush_table()
        if not stripped:
            continue
        if m := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            level = len(m.group(1))
            if level == 1:
                document.add_paragraph(clean_inline(m.group(2)), style="Title")
            else:
                document.add_heading(clean_inline(m.group(2)), level=level - 1)
        elif m := re.match(r"^[-*+]\s+(.*)$", stripped):
            document.add_paragraph(clean_inline(m.group(1)), style="List Bullet")
        elif re.match(r"^\d{1,2}[.)]\s+", stripped):
            document.add_paragraph(clean_inline(stripped), style="List Number")
        else:
            document.add_paragraph(clean_inline(stripped))
    flush_table()
    out = target(corpus, meta, source.stem + ".docx")
    document.save(out)
    write_sidecar(out, meta)
    return out


# ---------------------------------------------------------------- PDF
def wrap(text: str, width_chars: int) -> list[str]:
    """Hard-wrap at a fixed width, as a PDF export does: sentences break across lines."""
    return [text[i : i + width_chars] for i in range(0, len(text), width_chars)] or [""]


def build_pdf(source: Path, corpus: Path) -> Path:
    meta, body = split_front(source.read_text(encoding="utf-8"))
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = target(corpus, meta, source.stem + ".pdf")
    pdf = canvas.Canvas(str(out), invariant=1, pagesize=(595, 842))
    pdf.setTitle(meta.get("title", source.stem))
    pdf.setAuthor(meta.get("issuer", "示例供电局"))
    header = f"{meta.get('issuer', '示例供电局')}  {meta.get('title', source.stem)}"
    lines: list[tuple[str, int]] = []
    for raw in body.splitlines():
        text = clean_inline(raw.strip().lstrip("#").strip())
        if not text:
            lines.append(("", 11))
            continue
        if set(text) <= set("|-: "):
            continue
        if text.startswith("|"):
            text = "  ".join(c.strip() for c in text.strip("|").split("|"))
        size = 14 if raw.lstrip().startswith("#") else 11
        lines.extend((piece, size) for piece in wrap(text, 40 if size == 11 else 30))
    page, y = 1, 0.0

    def new_page() -> float:
        pdf.setFont(FONT, 9)
        pdf.drawString(60, 810, header)
        pdf.drawCentredString(297, 30, f"- {page} -")
        return 780.0

    y = new_page()
    for text, size in lines:
        if y < 60:
            pdf.showPage()
            page += 1
            y = new_page()
        if text:
            pdf.setFont(FONT, size)
            pdf.drawString(60, y, text)
        y -= size + 9
    pdf.showPage()
    pdf.save()
    write_sidecar(out, meta)
    return out


# ---------------------------------------------------------------- XLSX
def build_xlsx(source: Path, corpus: Path) -> Path:
    meta_file = source.with_name(source.name + ".meta.yaml")
    meta = yaml.safe_load(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    workbook = openpyxl.Workbook()
    workbook.properties.created = workbook.properties.modified = FIXED_TIME
    workbook.properties.creator = meta.get("issuer", "示例供电局")
    sheet = workbook.active
    sheet.title = "FAQ"
    for row in rows:
        sheet.append(row)
    out = target(corpus, meta, source.stem + ".xlsx")
    workbook.save(out)
    write_sidecar(out, meta)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=Path, default=Path("scripts/corpus_sources"))
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    args = parser.parse_args()
    builders = {"docx": ("*.md", build_docx), "pdf": ("*.md", build_pdf), "xlsx": ("*.csv", build_xlsx)}
    for kind, (pattern, build) in builders.items():
        for source in sorted((args.sources / kind).glob(pattern)):
            print(f"{source} -> {build(source, args.corpus)}")


if __name__ == "__main__":
    main()
