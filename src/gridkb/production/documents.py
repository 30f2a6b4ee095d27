"""One source file → one Document: read with limits, pick the loader, attach metadata, assign ids."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from gridkb.errors import EmptyDocument, FileTooLarge, SourceError
from gridkb.production.loaders import LOADERS, loader_for
from gridkb.production.meta import SIDECAR_SUFFIX, build_meta, read_sidecar
from gridkb.production.normalize import normalize_line
from gridkb.records import BlockKind, Document, FaqEntry, content_id


def source_name(path: Path) -> str:
    """How a file is named in the knowledge base: relative to the working directory when inside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def document_id(source: str) -> str:
    return content_id(source, length=12)


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Every candidate file under ``paths`` (files given directly are always candidates), sorted."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith(".") or name.endswith(SIDECAR_SUFFIX) or name.upper() == "README.MD":
                        continue
                    yield Path(root) / name
        else:
            yield path


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def read_source(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``; refuses missing, empty and oversized files with a clear reason."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(str(path), f"cannot read: {exc.strerror}") from None
    if size > max_bytes:
        raise FileTooLarge(str(path), f"oversized: {size / 1048576:.1f} MiB > limit {max_bytes / 1048576:.1f} MiB")
    if size == 0:
        raise EmptyDocument(str(path), "empty file")
    return path.read_bytes()


def file_hash(data: bytes, path: Path) -> str:
    """Content hash of a file together with its sidecar, so editing either re-ingests the document."""
    digest = hashlib.sha256(data)
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.is_file():
        digest.update(sidecar.read_bytes())
    return digest.hexdigest()


def load_document(path: Path, max_bytes: int) -> Document:
    """Load, normalise and structure one file; raises a SourceError subclass with the reason."""
    data = read_source(path, max_bytes)
    sidecar = read_sidecar(path)
    extracted = loader_for(path)(path, data, sidecar.get("encoding"))
    raw_meta = {**extracted.front_matter, **sidecar}
    if not any(b.kind is not BlockKind.HEADING for b in extracted.blocks) and not extracted.faqs:
        raise EmptyDocument(str(path), "no text found in the document")
    fallback = extracted.title or _first_heading(extracted) or path.stem
    meta = build_meta(path, raw_meta, normalize_line(fallback))
    source = source_name(path)
    doc_id = document_id(source)
    faqs = tuple(
        FaqEntry(
            id=content_id(source, "faq", row.question, row.answer),
            question=row.question,
            answer=row.answer,
            doc_id=doc_id,
            similar=row.similar,
            category=row.category,
            row=row.row,
        )
        for row in extracted.faqs
    )
    blocks = tuple(extracted.blocks)
    return Document(
        id=doc_id,
        source=source,
        title=normalize_line(meta.title),
        format=path.suffix.lower().lstrip("."),
        text="\n".join(b.text for b in blocks),
        original_text=extracted.original_text,
        blocks=blocks,
        meta=meta,
        content_hash=file_hash(data, path),
        faqs=faqs,
    )


def _first_heading(extracted) -> str:  # type: ignore[no-untyped-def]
    for block in extracted.blocks:
        if block.kind is BlockKind.HEADING and block.level <= 1 and not extracted.faqs:
            return str(block.text)
    return ""
