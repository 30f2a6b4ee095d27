"""Parsing as tasks on an executor, with the embedding of each parsed file's new chunks started on the
workers while later files are still being parsed. The embedding cache is the hand-off: the build then
finds every chunk's vector there. Only the calling process writes the cache; workers only produce."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gridkb.config import Settings
from gridkb.errors import SourceError
from gridkb.production.parse_tasks import DocRecord, LexiconSpec, ParseBatch, ParseLimits, ParseOutcome, SourceBytes, parse_batch
from gridkb.storage.embedders import CachedEmbedder, Embedder, EmbedderSpec, EmbeddingCache, FanOutEmbedder
from gridkb.storage.executors import InlineExecutor, TaskExecutor, create_executor, forget_worker_caches

PARSE_TASK_BYTES = 256 * 1024  # a parse task holds files up to this many bytes (about a second of parsing)
PARSE_TASK_FILES = 16
IN_FLIGHT_PER_WORKER = 2  # parse tasks queued per worker: enough to keep it busy, not the corpus in memory
EMBED_CALL_TASKS_PER_WORKER = 4  # embed tasks one call of the build (FAQ wordings, training questions) keeps in flight
FANOUT_MIN_FILES = 16  # fewer files to parse: the ingesting process parses them, sooner than workers could start


@dataclass(frozen=True)
class PendingFile:
    """A file to parse, under its document key."""

    source: str
    path: Path


class EmbeddingPrefetch:
    """Chunk texts embedded ahead of the build by a ``FanOutEmbedder``; their vectors go into the cache
    as they arrive. ``finish()`` waits for the rest and raises WorkerFailedError if a task failed."""

    def __init__(self, embedder: CachedEmbedder, fanout: FanOutEmbedder) -> None:
        self._embedder = embedder
        self._fanout = fanout
        self._pending: deque[tuple[list[str], Future[np.ndarray]]] = deque()
        self._asked: set[str] = set()

    def feed(self, texts: Sequence[str]) -> None:
        """Start embedding the texts not cached nor asked for yet."""
        fresh = [t for t in self._embedder.missing_passages(texts) if t not in self._asked]
        self._asked.update(fresh)
        step = self._fanout.spec.batch_size
        for start, future in zip(range(0, len(fresh), step), self._fanout.submit(fresh)):
            self._pending.append((fresh[start : start + step], future))
        self._store(wait=False)

    def finish(self) -> None:
        self._store(wait=True)

    def _store(self, wait: bool) -> None:
        while self._pending and (wait or self._pending[0][1].done()):
            texts, future = self._pending.popleft()
            self._embedder.remember_passages(texts, future.result())


def parse_files(
    files: Sequence[PendingFile],
    limits: ParseLimits,
    lexicon: LexiconSpec,
    executor: TaskExecutor,
    prefetch: EmbeddingPrefetch | None,
    parsed: Callable[[int], None],
) -> dict[str, DocRecord | str]:
    """Each file's record, or the reason it failed, by key. ``parsed(n)`` is told as files are done.
    Raises WorkerFailedError when a task fails or its worker dies."""
    results: dict[str, DocRecord | str] = {}
    in_flight: deque[Future[list[ParseOutcome]]] = deque()

    def take_oldest() -> None:
        outcomes = in_flight.popleft().result()
        for outcome in outcomes:
            record = DocRecord.from_json(outcome.record) if outcome.record is not None else None
            results[outcome.source] = record or outcome.failure or "no record"
            if record is not None and prefetch is not None:
                prefetch.feed([c.index_text for c in record.chunks])
        parsed(len(outcomes))

    for batch in _batches(files, limits, results, parsed):
        in_flight.append(executor.submit(parse_batch, ParseBatch(tuple(batch), limits, lexicon)))
        while len(in_flight) >= IN_FLIGHT_PER_WORKER * executor.workers:
            take_oldest()
    while in_flight:
        take_oldest()
    return results


def _batches(
    files: Sequence[PendingFile], limits: ParseLimits, results: dict[str, DocRecord | str], parsed: Callable[[int], None]
) -> Iterator[list[SourceBytes]]:
    """Files read into tasks of up to PARSE_TASK_BYTES / PARSE_TASK_FILES; a file that cannot be read
    is a failure in ``results`` at once."""
    batch: list[SourceBytes] = []
    size = 0
    for file in files:
        try:
            item = SourceBytes.read(file.path, file.source, limits.max_file_bytes)
        except SourceError as error:
            results[file.source] = error.reason
            parsed(1)
            continue
        batch.append(item)
        size += len(item.data)
        if size >= PARSE_TASK_BYTES or len(batch) >= PARSE_TASK_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class IngestTasks:
    """Where this ingest's parse and embed tasks run, opened when first needed (an unchanged corpus
    starts nothing), and the embedder over the embedding cache. Workers produce; this process writes."""

    def __init__(self, settings: Settings, given: TaskExecutor | None, cache: EmbeddingCache, local_embedder: Callable[[], Embedder]) -> None:
        self.settings = settings
        self.local_embedder = local_embedder
        self.executor = given
        self.owned = False
        self.cache = cache
        self._embedder: CachedEmbedder | None = None
        self.prefetch_seconds = 0.0  # waiting, after parsing, for the chunks' vectors

    def open_executor(self, files_to_parse: int) -> TaskExecutor:
        if self.executor is None:
            self.owned = True
            self.executor = InlineExecutor() if files_to_parse < FANOUT_MIN_FILES else create_executor(self.settings)
        return self.executor

    @property
    def fans_out(self) -> bool:
        return self.executor is not None and self.executor.name != InlineExecutor.name

    def embedder(self) -> CachedEmbedder:
        """Embedding on the workers when the ingest fans out; in this process otherwise."""
        if self._embedder is None:
            batch = self.settings.embedding_batch_size
            if self.fans_out and self.executor is not None:
                fanout = FanOutEmbedder(self.executor, EmbedderSpec.of(self.settings))
                self._embedder = CachedEmbedder(fanout, self.cache, batch, window=batch * self.executor.workers * EMBED_CALL_TASKS_PER_WORKER)
            else:
                self._embedder = CachedEmbedder(self.local_embedder(), self.cache, batch)
        return self._embedder

    def prefetch(self) -> EmbeddingPrefetch | None:
        """Chunks embedded on the workers while later files are parsed (fan-out only)."""
        embedder = self.embedder() if self.fans_out else None
        return EmbeddingPrefetch(embedder, embedder.inner) if embedder and isinstance(embedder.inner, FanOutEmbedder) else None

    def close(self) -> None:
        try:
            if self.owned and self.executor is not None:
                self.executor.close()
        finally:
            self.cache.close()
            forget_worker_caches()  # what tasks loaded in this process (inline), and the ingest's lexicon


@contextmanager
def open_tasks(settings: Settings, given: TaskExecutor | None, cache_path: Path, local_embedder: Callable[[], Embedder]) -> Iterator[IngestTasks]:
    """The ingest's tasks over the embedding cache at ``cache_path``; closes what it started."""
    tasks = IngestTasks(settings, given, EmbeddingCache(cache_path), local_embedder)
    try:
        yield tasks
    finally:
        tasks.close()
