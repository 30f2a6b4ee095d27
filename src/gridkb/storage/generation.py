"""One built generation of a knowledge base: the only place that names its files, and its typed manifest.

    generations/<name>/
      manifest.json          what was built, from what, with which embedder (``Manifest``), written last
      records/<doc id>.json  what production derived from one source file, reused while the file is unchanged
      chunks.json            the chunk table; BM25 rows and the exact-search matrix line up with it
      faq_questions.json     every FAQ wording (question and alternatives): the rows of the FAQ indexes
      bm25/, bm25_faq/       keyword indexes over the chunks and over the FAQ wordings
      chunk_vectors.npy, faq_vectors.npy   dense vectors in row order (small knowledge bases only)
      chroma/                the dense indexes in embedded mode (a Chroma server holds them otherwise)
      classifier.npz         the question classifier trained by this build
      organisation.json      document categories, duplicates, conflicts, supersedes links, related pairs
      graph.json             the knowledge graph
      config/                the configuration the generation was built with

The build pipeline writes a generation through ``Generation`` and the readers (``KnowledgeBase``,
search) read it through it; ``KbLayout`` (``storage/layout.py``) decides which generation is current.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from gridkb.errors import GenerationError
from gridkb.records import Audience, Chunk

MANIFEST_VERSION = 1  # bump, and teach ``read_manifest`` the old one, when the manifest's shape changes
READABLE_VERSIONS = frozenset({1})
UNVERSIONED = 1  # manifests written before they carried a version have version 1's shape
STAGING_PREFIX = ".staging-"
REBUILD_HINT = "rebuild it with 'gridkb ingest <corpus> --kb <dir>'"


class GenerationFile(str, Enum):
    """The files and folders of a generation, by role (the value is the name on disk)."""

    MANIFEST = "manifest.json"
    RECORDS = "records"
    CHUNKS = "chunks.json"
    FAQ_QUESTIONS = "faq_questions.json"
    CHUNK_BM25 = "bm25"
    FAQ_BM25 = "bm25_faq"
    CHUNK_VECTORS = "chunk_vectors.npy"
    FAQ_VECTORS = "faq_vectors.npy"
    CHROMA = "chroma"
    CLASSIFIER = "classifier.npz"
    ORGANISATION = "organisation.json"
    GRAPH = "graph.json"
    CONFIG = "config"


# --- the manifest (pydantic: it is read back from disk, so it is validated on the way in)


class _ManifestPart(BaseModel):
    model_config = ConfigDict(frozen=True)


class DocumentEntry(_ManifestPart):
    """One ingested document, under its key (folder name / path inside it) in ``Manifest.documents``."""

    id: str
    path: str | None = None  # the file it was read from (absent in builds keyed by absolute path)
    content_hash: str
    title: str
    format: str
    audience: Audience
    chunks: int
    faqs: int


class EmbedderInfo(_ManifestPart):
    name: str
    dim: int


class VectorStoreInfo(_ManifestPart):
    """Where the dense indexes are: Chroma collections on disk (embedded) or on a server."""

    mode: Literal["embedded", "server"]
    chunks: str  # collection names
    faq: str
    url: str | None = None

    @property
    def server_url(self) -> str | None:
        return self.url if self.mode == "server" else None


class GenerationStats(_ManifestPart):
    documents: int
    chunks: int
    faqs: int
    terms: int
    entities: int
    graph_nodes: int
    graph_edges: int
    duplicate_groups: int = 0
    conflicts: int = 0


class ConfigSnapshot(_ManifestPart):
    """The configuration a build used: the folder it was read from (None when that was a generation's own
    copy, which goes away with it) and the files copied into ``config/``."""

    source: str | None = None
    classifier_training: str = ""
    files: tuple[str, ...] = ()


class Manifest(_ManifestPart):
    version: int = MANIFEST_VERSION
    generation: str
    created: str
    fingerprint: str  # of the pipeline and configuration (``ingest.pipeline_fingerprint``)
    embedder: EmbedderInfo
    vector_store: VectorStoreInfo
    stats: GenerationStats
    config: ConfigSnapshot | None = None  # None: built before copies of the configuration were kept
    documents: dict[str, DocumentEntry] = {}


@dataclass(frozen=True)
class FaqWording:
    """One way of asking an FAQ (its question or an alternative): one row of the FAQ indexes."""

    id: str  # "<faq id>:<n>", n = 0 for the question itself
    text: str
    faq_id: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


# --- the generation


class Generation:
    """One generation's directory (complete, or still being built under ``.staging-<name>``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __repr__(self) -> str:
        return f"Generation({self.directory})"

    @property
    def name(self) -> str:
        """The generation's name once published (a staging build already knows it)."""
        return self.directory.name.removeprefix(STAGING_PREFIX)

    def path(self, part: GenerationFile) -> Path:
        return self.directory / part.value

    def record_path(self, doc_id: str) -> Path:
        return self.path(GenerationFile.RECORDS) / f"{doc_id}.json"

    def files(self) -> dict[GenerationFile, Path]:
        """The parts present on disk (``chroma/`` only in embedded mode, the vector matrices only for small builds)."""
        return {part: self.path(part) for part in GenerationFile if self.path(part).exists()}

    def is_complete(self) -> bool:
        """A build writes its manifest last: a generation without one was never finished."""
        return self.path(GenerationFile.MANIFEST).is_file()

    # --- manifest

    def write_manifest(self, manifest: Manifest) -> None:
        data = orjson.dumps(manifest.model_dump(mode="json"), option=orjson.OPT_INDENT_2)
        self.path(GenerationFile.MANIFEST).write_bytes(data)

    def read_manifest(self) -> Manifest:
        """The validated manifest; raises GenerationError when it is missing, unreadable, of a version this
        gridkb does not read, or malformed."""
        path = self.path(GenerationFile.MANIFEST)
        try:
            raw = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            raise GenerationError(f"{self.directory} has no {path.name}: it is not a complete generation; {REBUILD_HINT}") from None
        except (OSError, orjson.JSONDecodeError) as error:
            raise GenerationError(f"{path} cannot be read ({error}); {REBUILD_HINT}") from error
        if not isinstance(raw, dict):
            raise GenerationError(f"{path} is not a manifest (a JSON object is expected); {REBUILD_HINT}")
        version = raw.get("version", UNVERSIONED)
        if version not in READABLE_VERSIONS:
            raise GenerationError(
                f"{path} has manifest version {version!r} but this gridkb reads version {MANIFEST_VERSION}: "
                f"open it with the gridkb that built it, or {REBUILD_HINT}"
            )
        try:
            return Manifest.model_validate({**raw, "version": version})
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise GenerationError(f"{path}: {where}: {first['msg']} ({error.error_count()} problems); {REBUILD_HINT}") from None

    # --- per-document records (their format belongs to the build pipeline: bytes here)

    def write_record(self, doc_id: str, data: bytes) -> None:
        self.path(GenerationFile.RECORDS).mkdir(exist_ok=True)
        self.record_path(doc_id).write_bytes(data)

    def read_record(self, doc_id: str) -> bytes | None:
        """A document's record, or None when this generation has none for it."""
        try:
            return self.record_path(doc_id).read_bytes()
        except FileNotFoundError:
            return None

    # --- the chunk table and the FAQ wordings

    def write_chunks(self, chunks: Sequence[Chunk]) -> None:
        self.path(GenerationFile.CHUNKS).write_bytes(orjson.dumps([c.to_dict() for c in chunks]))

    def read_chunks(self) -> list[Chunk]:
        """All chunks in index-row order."""
        return [Chunk.from_dict(c) for c in orjson.loads(self.path(GenerationFile.CHUNKS).read_bytes())]

    def write_faq_wordings(self, wordings: Sequence[FaqWording]) -> None:
        self.path(GenerationFile.FAQ_QUESTIONS).write_bytes(orjson.dumps([w.to_dict() for w in wordings]))

    def read_faq_wordings(self) -> list[FaqWording]:
        """Every FAQ wording in FAQ-index row order."""
        return [FaqWording(**row) for row in orjson.loads(self.path(GenerationFile.FAQ_QUESTIONS).read_bytes())]

    # --- organisation (its record types belong to the organisation layer: plain JSON here)

    def write_organisation(self, organisation: dict[str, Any]) -> None:
        # json, not orjson: it serialises numpy's float64 as the float it is
        self.path(GenerationFile.ORGANISATION).write_text(json.dumps(organisation, ensure_ascii=False), encoding="utf-8")

    def read_organisation(self) -> dict[str, Any]:
        return dict(orjson.loads(self.path(GenerationFile.ORGANISATION).read_bytes()))


# --- how chunk fields are stored beside the vectors, for the search filters (they compare numbers)

NO_END = 99991231  # valid_to of chunks that never expire


def date_number(value: str | None, default: int) -> int:
    """ISO date → YYYYMMDD int, so vector-store ``where`` filters can compare dates."""
    return int(date.fromisoformat(value).strftime("%Y%m%d")) if value else default


def chunk_metadata(chunk: Chunk) -> dict[str, str | int | float | bool]:
    """The metadata a chunk's vectors carry in the dense indexes (``Searcher`` filters on these keys)."""
    return {
        "doc_id": chunk.doc_id,
        "kind": chunk.kind.value,
        "audience": chunk.audience.value,
        "category": chunk.category,
        "valid_from": date_number(chunk.valid_from, 0),
        "valid_to": date_number(chunk.valid_to, NO_END),
    }
