"""Per-task overhead of the engines an ingest could fan out on, each with 2 local workers.

    .venv/bin/python scripts/bench_task_engines.py [processes rq rq-fork celery ray] [--tasks 300]

For each engine installed (rq, celery and ray are not gridkb dependencies: install them to compare),
prints tasks/s for a no-op task and for an embed-shaped one (32 texts in, 32 × 384 float32 out, no
model), the round trip of a single task, and the start-up time. Redis at GRIDKB_REDIS_URL (default
redis://127.0.0.1:6379/14) is the broker of RQ and Celery. The choice it informed is written in
``gridkb/storage/executors.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REDIS_URL = os.environ.get("GRIDKB_REDIS_URL", "redis://127.0.0.1:6379/14")
HERE = Path(__file__).resolve().parent
# the workers import this file as a module: it needs this folder on their path, and Celery's go-ahead
# to accept pickled payloads when run as root
WORKER_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path]), "C_FORCE_ROOT": "1"}
TEXTS = ["低压居民用户从受理到办结不超过 5 个工作日内完成，客户可通过南网在线 APP 查询进度，编号 123456。" * 3] * 32


def noop(payload: object) -> None:
    return None


def embed_shaped(texts: list[str]) -> np.ndarray:
    return np.zeros((len(texts), 384), dtype=np.float32)


try:  # Celery registers tasks on an app object, which its workers import from this module
    from celery import Celery

    celery_app = Celery("bench_task_engines", broker=REDIS_URL, backend=REDIS_URL)
    celery_app.conf.update(task_serializer="pickle", result_serializer="pickle", accept_content=["pickle"], worker_prefetch_multiplier=1)
    CELERY_TASKS = {noop: celery_app.task(noop, name="noop"), embed_shaped: celery_app.task(embed_shaped, name="embed_shaped")}
except ImportError:
    CELERY_TASKS = {}


class Engine:
    """start() → context; submit(context, function, payload) → handle; collect(handles); stop(context)."""

    def __init__(self, start: Callable[[], Any], submit: Callable[[Any, Callable[..., Any], Any], Any], collect: Callable[[list[Any]], None], stop: Callable[[Any], None]):
        self.start, self.submit, self.collect, self.stop = start, submit, collect, stop


def processes() -> Engine:
    from concurrent.futures import ProcessPoolExecutor

    def start() -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(2)
        pool.submit(noop, None).result()
        return pool

    def collect(futures: list[Any]) -> None:
        for future in futures:
            future.result()

    return Engine(start, lambda pool, fn, payload: pool.submit(fn, payload), collect, lambda pool: pool.shutdown())


def rq(worker_class: str) -> Engine:
    from redis import Redis
    from rq import Queue

    def start() -> tuple[Queue, list[subprocess.Popen[bytes]]]:
        name = "bench-" + uuid.uuid4().hex[:6]
        command = [sys.executable, "-m", "rq.cli", "worker", "--url", REDIS_URL, "--worker-class", worker_class, "-q", name]
        workers = [subprocess.Popen(command, env=WORKER_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        return Queue(name, connection=Redis.from_url(REDIS_URL)), workers

    def collect(jobs: list[Any]) -> None:
        for job in jobs:
            result = job.latest_result(timeout=120)
            assert result is not None and result.type == result.Type.SUCCESSFUL, result

    def stop(context: tuple[Queue, list[subprocess.Popen[bytes]]]) -> None:
        for worker in context[1]:
            worker.kill()
            worker.wait()

    return Engine(start, lambda ctx, fn, payload: ctx[0].enqueue(fn, payload, result_ttl=60), collect, stop)


def celery() -> Engine:
    def start() -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "celery", "-A", "bench_task_engines:celery_app", "worker", "-c", "2", "--pool", "prefork", "-l", "warning"]
        worker = subprocess.Popen(command, env=WORKER_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while not celery_app.control.ping(timeout=0.5):
            if time.time() > deadline or worker.poll() is not None:
                raise RuntimeError("the celery worker did not start")
        return worker

    def stop(worker: subprocess.Popen[bytes]) -> None:
        worker.terminate()
        worker.wait()

    def collect(results: list[Any]) -> None:
        for result in results:
            result.get(timeout=120)

    return Engine(start, lambda _, fn, payload: CELERY_TASKS[fn].delay(payload), collect, stop)


def ray() -> Engine:
    import ray as ray_module

    def start() -> dict[Any, Any]:
        ray_module.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
        return {fn: ray_module.remote(num_cpus=1)(fn) for fn in (noop, embed_shaped)}

    def collect(refs: list[Any]) -> None:
        ray_module.get(refs)

    return Engine(start, lambda remote, fn, payload: remote[fn].remote(payload), collect, lambda _: ray_module.shutdown())


ENGINES: dict[str, Callable[[], Engine]] = {
    "processes": processes, "rq": lambda: rq("rq.worker.SimpleWorker"), "rq-fork": lambda: rq("rq.Worker"), "celery": celery, "ray": ray,
}


def measure(label: str, engine: Engine, tasks: int) -> None:
    started = time.perf_counter()
    context = engine.start()
    startup = time.perf_counter() - started
    try:
        engine.collect([engine.submit(context, noop, None)])  # the workers are up and have imported the tasks
        trips = []
        for _ in range(20):
            t = time.perf_counter()
            engine.collect([engine.submit(context, noop, None)])
            trips.append(time.perf_counter() - t)
        for name, fn, payload in (("no-op", noop, None), ("embed-shaped", embed_shaped, TEXTS)):
            t = time.perf_counter()
            engine.collect([engine.submit(context, fn, payload) for _ in range(tasks)])
            wall = time.perf_counter() - t
            print(f"{label:>10} {name:>12}: {tasks / wall:8.1f} tasks/s = {1000 * wall / tasks:7.2f} ms per task", flush=True)
        print(f"{label:>10} round trip p50 {1000 * statistics.median(trips):.1f} ms, start-up {startup:.1f} s", flush=True)
    finally:
        engine.stop(context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("engines", nargs="*", choices=[[], *ENGINES], help="default: all")
    parser.add_argument("--tasks", type=int, default=300)
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; 2 workers each")
    for name in args.engines or list(ENGINES):
        try:
            engine = ENGINES[name]()
        except ImportError as error:
            print(f"{name:>10}: not installed ({error.name})")
            continue
        measure(name, engine, args.tasks)


if __name__ == "__main__":
    # run as the module the workers import, so that the tasks are named bench_task_engines.noop, not __main__.noop
    sys.path.insert(0, str(HERE))
    import bench_task_engines

    bench_task_engines.main()
