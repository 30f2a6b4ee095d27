"""Loaders by file extension: bytes of one file → normalised blocks (and FAQ rows)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gridkb.errors import UnsupportedFormatError
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
# The one list of file types gridkb reads: ingestion, the upload form and its messages all use it.
SUPPORTED_SUFFIXES = frozenset(LOADERS)
MARKDOWN_SUFFIXES = frozenset(s for s, loader in LOADERS.items() if loader is load_md)  # may carry front matter


def is_supported(path: Path | str) -> bool:
    """Whether a loader reads files named like ``path`` (by extension, any case)."""
    return Path(path).suffix.lower() in SUPPORTED_SUFFIXES


def loader_for(path: Path) -> Loader:
    """The loader for ``path``'s extension; raises UnsupportedFormatError for anything else."""
    try:
        return LOADERS[path.suffix.lower()]
    except KeyError:
        supported = " ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnsupportedFormatError(str(path), f"unsupported format '{path.suffix or '(none)'}' (supported: {supported})") from None


__all__ = ["LOADERS", "MARKDOWN_SUFFIXES", "SUPPORTED_SUFFIXES", "Extracted", "FaqRow", "is_supported", "loader_for"]
