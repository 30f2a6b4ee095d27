"""Ingest tasks as RQ jobs over Redis: the distributed engine (why RQ rather than Celery or Ray:
``storage/executors.py``). Optional extra: ``pip install 'gridkb[distributed]'``.

The ingesting process enqueues each task on the ``gridkb-ingest`` queue and starts ``workers`` RQ
workers on this host; workers on other hosts join by running, with the same gridkb installed::

    OMP_NUM_THREADS=<cores> rq worker --worker-class rq.worker.SimpleWorker --url redis://<host>:6379/0 gridkb-ingest

``SimpleWorker`` runs jobs in its own process, so it loads the lexicon and the model once (RQ's default
worker forks a new process per job and would load them again each time). Payloads are pickled, as RQ
does by default: the Redis server must be reachable only from trusted hosts. A local worker that dies
fails every pending task at once with its exit status; a worker elsewhere that dies is noticed by RQ's
own clean-up (its job is marked failed once the worker's heartbeat expires) or by ``job_timeout``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from gridkb.config import Settings
from gridkb.errors import BackendUnavailableError, ConfigError
from gridkb.storage.executors import exit_with_parent, failed, threads_per_worker

log = logging.getLogger(__name__)

QUEUE = "gridkb-ingest"
P = TypeVar("P")
R = TypeVar("R")


class RqExecutor:
    """Tasks as jobs on an RQ queue, served by ``local_workers`` workers started here and any others
    listening on the queue. Raises BackendUnavailableError when rq is not installed or Redis does not answer."""

    name = "rq"

    def __init__(
        self, redis_url: str, local_workers: int, threads: int | None = None, queue: str = QUEUE,
        job_timeout: int = 3600, poll_seconds: float = 0.05,
    ) -> None:
        try:
            from redis import Redis, RedisError
            from rq import Queue, Worker
        except ImportError:
            raise BackendUnavailableError("the rq executor needs the extra: pip install 'gridkb[distributed]'") from None
        self._redis = Redis.from_url(redis_url)
        try:
            self._redis.ping()
            elsewhere = len(Worker.all(connection=self._redis, queue=Queue(queue, connection=self._redis)))
        except RedisError as error:
            raise BackendUnavailableError(f"Redis at {redis_url} does not answer ({error}): start it, or ingest with --executor processes") from None
        self._queue = Queue(queue, connection=self._redis)
        self._job_timeout = job_timeout
        self._poll_seconds = poll_seconds
        self._logs = Path(tempfile.mkdtemp(prefix="gridkb-rq-"))
        self._local = [self._start_worker(redis_url, queue, threads or threads_per_worker(local_workers), n) for n in range(local_workers)]
        self.workers = max(1, local_workers + elsewhere)
        if not (local_workers or elsewhere):
            log.warning("no RQ worker listens on queue %s: tasks wait until one starts", queue)
        self._pending: dict[str, tuple[Callable[..., Any], Future[Any]]] = {}
        self._broken: str | None = None  # why every task fails from now on
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="gridkb-rq-watch", daemon=True)
        self._watcher.start()

    @classmethod
    def from_settings(cls, settings: Settings, local_workers: int) -> "RqExecutor":
        if not settings.redis_url:
            raise ConfigError("the rq ingest executor needs GRIDKB_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
        return cls(settings.redis_url, local_workers, settings.embedding_threads)

    def _start_worker(self, redis_url: str, queue: str, threads: int, n: int) -> subprocess.Popen[bytes]:
        """An RQ worker process on this host, running this interpreter with this process's import path."""
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "OMP_NUM_THREADS": str(threads)}
        rq_arguments = ["worker", "--worker-class", "rq.worker.SimpleWorker", "--url", redis_url, "--quiet", queue]
        command = [sys.executable, "-m", "gridkb.storage.rq_executor", str(os.getpid()), *rq_arguments]
        with open(self._logs / f"worker-{n}.log", "wb") as log_file:
            return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log_file)

    def submit(self, task: Callable[[P], R], payload: P) -> "Future[R]":
        future: Future[R] = Future()
        if self._broken:
            future.set_exception(failed(task, self._broken))
            return future
        job = self._queue.enqueue(task, payload, job_timeout=self._job_timeout, result_ttl=600, failure_ttl=86400)
        with self._lock:
            self._pending[job.id] = (task, future)
        return future

    def _watch(self) -> None:
        """Settle futures as their jobs finish or fail; fail them all if a local worker dies."""
        while not self._closing.wait(self._poll_seconds):
            try:
                self._settle_finished()
            except Exception as error:  # Redis went away: every pending task is lost with it
                self._fail_all(f"lost contact with Redis ({error})")
                return
            if dead := next((w for w in self._local if w.poll() is not None), None):
                self._fail_all(f"the RQ worker process {dead.pid} on this host exited with status {dead.returncode}{self._log_tail(dead)}")
                return

    def _settle_finished(self) -> None:
        from rq.job import Job, JobStatus

        with self._lock:
            ids = list(self._pending)
        if not ids:
            return
        pipe = self._redis.pipeline()
        for job_id in ids:
            pipe.hget(Job.key_for(job_id), "status")
        for job_id, raw in zip(ids, pipe.execute()):
            status = raw.decode() if raw else None
            if status not in (JobStatus.FINISHED.value, JobStatus.FAILED.value, JobStatus.STOPPED.value, JobStatus.CANCELED.value, None):
                continue
            with self._lock:
                task, future = self._pending.pop(job_id)
            if status == JobStatus.FINISHED.value:
                future.set_result(Job.fetch(job_id, connection=self._redis).return_value())
            else:
                future.set_exception(failed(task, self._failure(job_id, status)))

    def _failure(self, job_id: str, status: str | None) -> str:
        """What the worker reported for a failed job: the last line of its traceback."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            result = Job.fetch(job_id, connection=self._redis).latest_result()
        except NoSuchJobError:
            return f"job {job_id} vanished from Redis"
        lines = (result.exc_string or "").strip().splitlines() if result else []
        return lines[-1] if lines else f"job {job_id} ended as {status}"

    def _log_tail(self, worker: subprocess.Popen[bytes]) -> str:
        index = self._local.index(worker)
        lines = (self._logs / f"worker-{index}.log").read_text(errors="replace").strip().splitlines()
        return f" ({lines[-1]})" if lines else ""

    def _fail_all(self, reason: str) -> None:
        self._broken = reason
        with self._lock:
            pending, self._pending = self._pending, {}
        for task, future in pending.values():
            future.set_exception(failed(task, reason))

    def close(self) -> None:
        """Cancel unfinished jobs and stop the workers started here."""
        from rq.job import cancel_job

        self._closing.set()
        self._watcher.join()
        with self._lock:
            unfinished, self._pending = self._pending, {}
        for job_id, (task, future) in unfinished.items():
            future.set_exception(failed(task, "the executor was closed before the task finished"))
            try:
                cancel_job(job_id, connection=self._redis)
            except Exception:  # already finished, failed or expired: nothing to cancel
                log.debug("job %s could not be cancelled", job_id)
        for worker in self._local:
            worker.terminate()  # RQ's warm shutdown, which an idle worker may take seconds to notice
        deadline = time.monotonic() + 2
        for worker in self._local:
            try:
                worker.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:  # no result of it would be read any more: nothing is lost
                worker.kill()
                worker.wait()
        self._redis.close()
        shutil.rmtree(self._logs, ignore_errors=True)


def run_local_worker(arguments: list[str]) -> None:
    """``python -m gridkb.storage.rq_executor <parent pid> worker …``: RQ's own worker command, ended
    with the ingesting process that started it."""
    from rq.cli import main

    exit_with_parent(int(arguments[0]))
    sys.argv = ["rq", *arguments[1:]]
    main()


if __name__ == "__main__":
    run_local_worker(sys.argv[1:])
