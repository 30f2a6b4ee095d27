"""What production derives from one source file (``DocRecord``), and the parse task that derives it on a
worker: a batch of files carried as bytes with the lexicon's content, so a worker on another host needs
no shared disk and no copy of ``kb/``. The task only produces; the ingesting process writes."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from gridkb.config import Settings
from gridkb.errors import SourceError
from gridkb.production.chunking import chunk_document
from gridkb.production.documents import load_document, read_source
from gridkb.production.extract import extract
from gridkb.production.lexicon import Lexicon
from gridkb.production.meta import SIDECAR_SUFFIX
from gridkb.production.structure import build_sections
from gridkb.records import Chunk, Document, Entity, Relation, Term
from gridkb.storage.executors import worker_cache

log = logging.getLogger(__name__)


@dataclass
class DocRecord:
    """Everything production derived from one source file; reused as-is while the file is unchanged."""

    document: Document
    chunks: list[Chunk]
    terms: list[Term] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)

    def to_json(self) -> bytes:
        """The record as stored: orjson writes the dataclasses, their enums (by value), tuples and dates
        itself, byte for byte what ``to_dict()`` of each part would give, three times faster (a third
        of a 10,000-chunk build went into ``dataclasses.asdict``'s deep copies)."""
        return orjson.dumps(self)

    @classmethod
    def from_json(cls, data: bytes) -> "DocRecord":
        raw = orjson.loads(data)
        return cls(
            Document.from_dict(raw["document"]),
            [Chunk.from_dict(c) for c in raw["chunks"]],
            [Term.from_dict(t) for t in raw["terms"]],
            [Entity.from_dict(e) for e in raw["entities"]],
            [Relation.from_dict(r) for r in raw["relations"]],
        )


@dataclass(frozen=True)
class ParseLimits:
    """The settings that shape what a file becomes."""

    max_file_bytes: int
    chunk_min_chars: int
    chunk_max_chars: int

    @classmethod
    def of(cls, settings: Settings) -> "ParseLimits":
        return cls(settings.max_file_bytes, settings.chunk_min_chars, settings.chunk_max_chars)


def derive_record(path: Path, limits: ParseLimits, lexicon: Lexicon, source: str | None = None) -> DocRecord:
    """Load, structure, chunk and extract one file (known as ``source``); raises a SourceError subclass
    on bad input."""
    document = load_document(path, limits.max_file_bytes, source)
    sections = build_sections(document.id, document.title, document.blocks)
    chunks = chunk_document(document, sections, limits.chunk_min_chars, limits.chunk_max_chars)
    extraction = extract(chunks, sections, lexicon)
    return DocRecord(document, extraction.chunks, extraction.terms, extraction.entities, extraction.relations)


def process_document(path: Path, settings: Settings, lexicon: Lexicon, source: str | None = None) -> DocRecord:
    """``derive_record`` with the limits of ``settings``."""
    return derive_record(path, ParseLimits.of(settings), lexicon, source)


# --- the parse task


@dataclass(frozen=True)
class LexiconSpec:
    """The content of a lexicon, sent with each parse task; equal (and hashed) by ``digest``, so a
    worker builds each lexicon and its jieba tokenizer once."""

    digest: str
    entities: tuple[Entity, ...] = field(compare=False)
    synonym_groups: tuple[tuple[str, ...], ...] = field(compare=False)
    stopwords: frozenset[str] = field(compare=False)

    @classmethod
    def of(cls, lexicon: Lexicon) -> "LexiconSpec":
        groups = tuple(tuple(g) for g in lexicon.synonym_groups)
        content = orjson.dumps([[e.to_dict() for e in lexicon.entities], groups, sorted(lexicon.stopwords)])
        return cls(hashlib.sha256(content).hexdigest(), tuple(lexicon.entities), groups, lexicon.stopwords)


@worker_cache
def lexicon_for(spec: LexiconSpec) -> Lexicon:
    """The lexicon ``spec`` describes, built once per process (the ingesting process shares it too)."""
    return Lexicon(list(spec.entities), [list(g) for g in spec.synonym_groups], spec.stopwords)


@dataclass(frozen=True)
class SourceBytes:
    """A file to parse, carried whole with its sidecar."""

    source: str  # the document's key
    name: str  # the file's name: its suffix picks the loader
    data: bytes
    sidecar: bytes | None = None

    @classmethod
    def read(cls, path: Path, source: str, max_bytes: int) -> "SourceBytes":
        """Raises SourceError when the file is missing, empty or too large."""
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        return cls(source, path.name, read_source(path, max_bytes), sidecar.read_bytes() if sidecar.is_file() else None)


@dataclass(frozen=True)
class ParseBatch:
    """One parse task: some files, and what to parse them with."""

    files: tuple[SourceBytes, ...]
    limits: ParseLimits
    lexicon: LexiconSpec


@dataclass(frozen=True)
class ParseOutcome:
    """A parsed file's record (as ``DocRecord`` JSON), or why it failed."""

    source: str
    record: bytes | None = None
    failure: str | None = None


def parse_batch(batch: ParseBatch) -> list[ParseOutcome]:
    """Task: derive each file's record. A file that fails is an outcome with its reason, never an
    exception, so one bad file does not sink its batch."""
    lexicon = lexicon_for(batch.lexicon)
    return [_parse_one(file, batch.limits, lexicon) for file in batch.files]


def _parse_one(file: SourceBytes, limits: ParseLimits, lexicon: Lexicon) -> ParseOutcome:
    # the loaders read a path (and its sidecar beside it): the bytes are laid out again under the same name
    with tempfile.TemporaryDirectory(prefix="gridkb-parse-") as folder:
        path = Path(folder) / file.name
        path.write_bytes(file.data)
        if file.sidecar is not None:
            path.with_name(path.name + SIDECAR_SUFFIX).write_bytes(file.sidecar)
        try:
            return ParseOutcome(file.source, derive_record(path, limits, lexicon, file.source).to_json())
        except SourceError as error:
            return ParseOutcome(file.source, failure=error.reason)
        except Exception as error:  # a parser bug must not sink the batch; report it with its type
            log.exception("unexpected failure on %s", file.source)
            return ParseOutcome(file.source, failure=f"unexpected {type(error).__name__}: {error}")
