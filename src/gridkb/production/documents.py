"""One source file → one Document: read with limits, pick the loader, attach metadata, assign ids."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from gridkb.errors import EmptyDocumentError, FileTooLargeError, SourceError
from gridkb.privacy import mask_personal_data
from gridkb.production.loaders import loader_for
from gridkb.production.loaders.base import Extracted
from gridkb.production.meta import SIDECAR_SUFFIX, build_meta, read_sidecar
from gridkb.production.normalize import normalize_line
from gridkb.records import BlockKind, Document, FaqEntry, content_id


@dataclass(frozen=True)
class SourceRoot:
    """A folder (or one file) given to ingestion and the key its documents are known by.

    A document's key is ``<folder name>/<path inside the folder>``: where the folder is mounted does
    not matter, so the same corpus ingested from another place is the same documents, and two folders
    given together keep apart by their names. ``complete``: the folder holds every document under its
    name, so earlier documents under it that are gone from it are removed (uploads add, never remove).
    """

    path: Path
    name: str
    complete: bool = True

    @classmethod
    def of(cls, path: Path) -> "SourceRoot":
        resolved = path.resolve()
        if path.is_file():
            return cls(path, f"{resolved.parent.name or 'root'}/{resolved.name}")
        return cls(path, resolved.name or "root")

    def key(self, file: Path) -> str:
        """The key of ``file``, a file under this root (or the root itself when it is a file)."""
        if file == self.path:
            return self.name
        return f"{self.name}/{file.relative_to(self.path).as_posix()}"

    def holds(self, key: str) -> bool:
        return key == self.name or key.startswith(self.name + "/")


def source_name(path: Path) -> str:
    """The key of a file given on its own: its folder's name and its file name."""
    return SourceRoot.of(path).name


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


def read_source(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``; refuses missing, empty and oversized files with a clear reason."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(str(path), f"cannot read: {exc.strerror}") from None
    if size > max_bytes:
        raise FileTooLargeError(str(path), f"oversized: {size / 1048576:.1f} MiB > limit {max_bytes / 1048576:.1f} MiB")
    if size == 0:
        raise EmptyDocumentError(str(path), "empty file")
    return path.read_bytes()


def file_hash(data: bytes, path: Path) -> str:
    """Content hash of a file together with its sidecar, so editing either re-ingests the document."""
    digest = hashlib.sha256(data)
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.is_file():
        digest.update(sidecar.read_bytes())
    return digest.hexdigest()


def load_document(path: Path, max_bytes: int, source: str | None = None) -> Document:
    """Load, normalise and structure one file, known as ``source`` (default: ``source_name``);
    raises a SourceError subclass with the reason."""
    data = read_source(path, max_bytes)
    sidecar = read_sidecar(path)
    extracted = _without_personal_data(loader_for(path)(path, data, sidecar.get("encoding")))
    raw_meta = {**extracted.front_matter, **sidecar}
    if not any(b.kind is not BlockKind.HEADING for b in extracted.blocks) and not extracted.faqs:
        raise EmptyDocumentError(str(path), "no text found in the document")
    fallback = extracted.title or _first_heading(extracted) or path.stem
    source = source or source_name(path)
    meta = build_meta(source, raw_meta, normalize_line(fallback))
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
        title=mask_personal_data(normalize_line(meta.title)),
        format=path.suffix.lower().lstrip("."),
        text="\n".join(b.text for b in blocks),
        original_text=extracted.original_text,
        blocks=blocks,
        meta=meta,
        content_hash=file_hash(data, path),
        faqs=faqs,
    )


def _without_personal_data(extracted: Extracted) -> Extracted:
    """A document's text with customers' phone, ID, account and card numbers masked before it reaches
    any index (Chroma keeps deleted text on disk; an uploaded case file may quote a customer)."""
    return replace(
        extracted,
        blocks=[replace(b, text=mask_personal_data(b.text)) for b in extracted.blocks],
        original_text=mask_personal_data(extracted.original_text),
        title=mask_personal_data(extracted.title),
        faqs=[
            replace(f, question=mask_personal_data(f.question), answer=mask_personal_data(f.answer), similar=tuple(mask_personal_data(s) for s in f.similar))
            for f in extracted.faqs
        ],
    )


def _first_heading(extracted) -> str:  # type: ignore[no-untyped-def]
    for block in extracted.blocks:
        if block.kind is BlockKind.HEADING and block.level <= 1 and not extracted.faqs:
            return str(block.text)
    return ""
