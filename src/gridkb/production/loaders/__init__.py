"""Loaders by file extension: bytes of one file → normalised blocks (and FAQ rows)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gridkb.errors import UnsupportedFormat
from gridkb.production.loaders.base import Extracted, FaqRow
from gridkb.production.loaders.docx import load_docx
from gridkb.production.loaders.html import load_html
from gridkb.production.loaders.json_faq import load_json
from gridkb.production.loaders.pdf import load_pdf
from gridkb.production.loaders.sheets import load_csv, load_xlsx
from gridkb.production.loaders.text import load_md, load_txt

Loader = Callable[[Path, bytes, "str | None"], Extracted]

LOADERS: dict[str, Loader] = {
    ".txt": load_txt,
    ".md": load_md,
    ".markdown": load_md,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".xlsx": load_xlsx,
    ".csv": load_csv,
    ".json": load_json,
}


def loader_for(path: Path) -> Loader:
    """The loader for ``path``'s extension; raises UnsupportedFormat for anything else."""
    try:
        return LOADERS[path.suffix.lower()]
    except KeyError:
        supported = " ".join(sorted(LOADERS))
        raise UnsupportedFormat(str(path), f"unsupported format '{path.suffix or '(none)'}' (supported: {supported})") from None


__all__ = ["LOADERS", "Extracted", "FaqRow", "loader_for"]
