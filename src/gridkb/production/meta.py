"""Document metadata: YAML front matter (Markdown), a ``<file>.meta.yaml`` sidecar, and the folder.

One rule for the audience: what the document's metadata declares; otherwise a document whose key
(``corpus/internal/…``, see ``documents.SourceRoot``) passes through a folder named ``internal`` (or
``seeds``) is internal, everything else public. Uploads always carry a declared audience (the API
writes it into their sidecar; internal when the uploader gave none).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from gridkb.errors import SourceError
from gridkb.records import Audience, DocumentMeta

SIDECAR_SUFFIX = ".meta.yaml"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_INTERNAL_FOLDERS = {"internal", "seeds"}
_KEYS = {"title", "audience", "doc_type", "issuer", "valid_from", "valid_to", "supersedes", "encoding"}


def split_front_matter(text: str, path: str) -> tuple[dict[str, Any], str]:
    """Return (front matter, body) of a Markdown text; no front matter gives an empty dict."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    return _parse_yaml(match.group(1), path), text[match.end():]


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar metadata of ``path``, or an empty dict when there is none."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    return _parse_yaml(sidecar.read_text(encoding="utf-8"), str(sidecar))


def parse_sidecar(text: str, path: str) -> dict[str, Any]:
    """The keys of a sidecar's text, refusing keys gridkb does not know (a misspelt ``audience`` must not
    pass unnoticed); raises SourceError."""
    data = _parse_yaml(text, path, known_only=False)
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise SourceError(path, f"unknown metadata keys {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})")
    return data


def _parse_yaml(text: str, path: str, known_only: bool = True) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (第 {mark.line + 1} 行)" if mark else ""
        raise SourceError(path, f"invalid metadata, not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except ValueError as exc:  # e.g. a date such as 2025-13-45
        raise SourceError(path, f"invalid metadata: {exc}") from None
    if not isinstance(data, dict):
        raise SourceError(path, "metadata must be a mapping of keys such as title, audience, valid_to")
    return {k: v for k, v in data.items() if k in _KEYS or not known_only}


def default_audience(source: str) -> Audience:
    """The folder rule, on the document's key (never on where the corpus happens to be mounted)."""
    folders = {p.lower() for p in PurePosixPath(source).parts[:-1]}
    return Audience.INTERNAL if _INTERNAL_FOLDERS & folders else Audience.PUBLIC


def build_meta(source: str, raw: dict[str, Any], fallback_title: str) -> DocumentMeta:
    """Combine metadata with the folder default; invalid values are reported as a SourceError."""
    try:
        return DocumentMeta(
            title=str(raw.get("title") or fallback_title),
            audience=raw.get("audience") or default_audience(source),
            doc_type=str(raw.get("doc_type") or ""),
            issuer=str(raw.get("issuer") or ""),
            valid_from=raw.get("valid_from"),
            valid_to=raw.get("valid_to"),
            supersedes=raw.get("supersedes"),
        )
    except ValueError as exc:
        raise SourceError(source, f"invalid metadata: {exc}") from None
