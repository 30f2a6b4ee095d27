"""Text PDFs (pypdf): page headers/footers and lone page numbers dropped, broken lines re-joined."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from gridkb.errors import CorruptFileError, EmptyDocumentError
from gridkb.production.loaders.base import Extracted
from gridkb.production.structure import drop_repeated_lines, plain_blocks

logging.getLogger("pypdf").setLevel(logging.ERROR)


def load_pdf(path: Path, data: bytes, encoding: str | None = None) -> Extracted:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise CorruptFileError(str(path), "encrypted PDF")
        pages = [(page.extract_text() or "").splitlines() for page in reader.pages]
    except CorruptFileError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise CorruptFileError(str(path), f"corrupt PDF: {exc}") from None
    if not any(line.strip() for page in pages for line in page):
        raise EmptyDocumentError(str(path), "the PDF has no extractable text (scanned image?)")
    pages = drop_repeated_lines(pages)
    lines = [line for page in pages for line in page]
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else "") or ""
    return Extracted(plain_blocks(lines), "\n".join(lines), str(title))
