"""Ingestion fanned out over executors: 2 local worker processes, and RQ workers over the real Redis,
build the same generation as the in-process executor; a worker that dies mid-batch stops the ingest
with a clear error while the current generation goes on serving. Hashing vectors: the model is not
the point here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

from gridkb.config import EmbeddingBackend, Settings
from gridkb.errors import WorkerFailedError
from gridkb.ingest import ingest
from gridkb.kb import KnowledgeBase
from gridkb.production.parse_tasks import parse_batch
from gridkb.storage.embedders import embed_batch
from gridkb.storage.executors import InlineExecutor, ProcessExecutor, TaskExecutor
from gridkb.storage.generation import Generation, GenerationFile
from gridkb.storage.layout import KbLayout
from tests.conftest import FIXTURES, ROOT

REDIS_URL = os.environ.get("GRIDKB_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def die(payload: object) -> None:
    """Stands in for a task whose worker is killed (out of memory, a crash in native code)."""
    os._exit(3)


def worker_pid(payload: object) -> int:
    return os.getpid()


def gone(pid: int, seconds: float = 20) -> bool:
    """Whether process ``pid`` ends (or is only a zombie left for init to reap) within ``seconds``."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.2)
    return False


def kill_and_watch_worker(executor_code: str) -> int:
    """Run ``executor_code`` (which binds ``executor``) in a child that starts one worker, SIGKILL the
    child, and return its worker's pid."""
    code = f"import time\nfrom tests.production.test_fanout import worker_pid\n{executor_code}\n" \
           "print(executor.submit(worker_pid, None).result(), flush=True)\ntime.sleep(600)"
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        pid = int(child.stdout.readline())  # type: ignore[union-attr]
    finally:
        child.kill()
        child.wait()
    return pid


class Watched:
    """An executor that counts the tasks it is given, and can swap the n-th embed task for ``die``."""

    def __init__(self, inner: TaskExecutor, die_at_embed: int | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.workers = inner.workers
        self.submitted: Counter[str] = Counter()
        self._die_at_embed = die_at_embed

    def submit(self, task: Callable[[Any], Any], payload: Any) -> Future[Any]:
        self.submitted[task.__name__] += 1
        if task is embed_batch and self.submitted["embed_batch"] == self._die_at_embed:
            return self.inner.submit(die, payload)
        return self.inner.submit(task, payload)

    def close(self) -> None:
        self.inner.close()


def corpus_and_settings(tmp_path: Path, name: str) -> tuple[Path, Settings]:
    corpus = tmp_path / "corpus"
    if not corpus.exists():
        shutil.copytree(FIXTURES / "mini_corpus", corpus)
    settings = Settings(
        kb_dir=tmp_path / name, config_dir=ROOT / "kb", classifier_training=FIXTURES / "eval" / "mini_qa.jsonl",
        embedding_backend=EmbeddingBackend.HASHING, embedding_batch_size=4,  # several embed tasks even for a tiny corpus
    )
    return corpus, settings


def built(settings: Settings) -> tuple[list[str], np.ndarray, list[str]]:
    """Chunk ids, chunk vectors and FAQ wording ids of the current generation."""
    generation = Generation(KbLayout(settings.kb_dir).current())  # type: ignore[arg-type]
    vectors = np.load(generation.path(GenerationFile.CHUNK_VECTORS))
    return [c.id for c in generation.read_chunks()], vectors, [w.id for w in generation.read_faq_wordings()]


def assert_same_generation(expected: Settings, actual: Settings) -> None:
    ids, vectors, wordings = built(expected)
    other_ids, other_vectors, other_wordings = built(actual)
    assert other_ids == ids and other_wordings == wordings
    np.testing.assert_allclose(other_vectors, vectors, atol=1e-6)


@pytest.fixture()
def inline_build(tmp_path: Path) -> Settings:
    corpus, settings = corpus_and_settings(tmp_path, "kb-inline")
    report = ingest([corpus], settings, executor=InlineExecutor())
    assert report.documents == 5 and report.chunks >= 9 and not report.failed
    return settings


def test_two_local_workers_build_what_the_inline_executor_builds(tmp_path: Path, inline_build: Settings) -> None:
    corpus, settings = corpus_and_settings(tmp_path, "kb-processes")
    executor = Watched(ProcessExecutor(2))
    try:
        report = ingest([corpus], settings, executor=executor)
    finally:
        executor.close()
    assert report.documents == 5 and not report.failed and report.embedded >= report.chunks
    assert executor.submitted["parse_batch"] >= 1 and executor.submitted["embed_batch"] >= 3  # the work went to the workers
    assert_same_generation(inline_build, settings)


def test_a_task_that_raises_on_a_worker_is_a_clear_error() -> None:
    executor = ProcessExecutor(1)
    try:
        future = executor.submit(parse_batch, None)  # type: ignore[arg-type]
        with pytest.raises(WorkerFailedError, match="parse_batch failed: AttributeError"):
            future.result()
    finally:
        executor.close()


def test_a_worker_dying_mid_batch_stops_the_ingest_and_the_current_generation_serves(tmp_path: Path, inline_build: Settings) -> None:
    corpus, _ = corpus_and_settings(tmp_path, "unused")
    serving = KbLayout(inline_build.kb_dir).current()
    (corpus / "public" / "new_rule.md").write_text("# 新规定\n\n居民用户办理暂停业务，应提前 5 个工作日申请。\n" * 3, encoding="utf-8")
    shutil.rmtree(inline_build.kb_dir / "embeddings.sqlite", ignore_errors=True)
    for cache in inline_build.kb_dir.glob("embeddings.sqlite*"):
        cache.unlink()  # every chunk must be embedded again, so the embed tasks are many
    executor = Watched(ProcessExecutor(2), die_at_embed=2)
    try:
        with pytest.raises(WorkerFailedError, match="worker process died.*current generation stays"):
            ingest([corpus], inline_build, executor=executor)
    finally:
        executor.close()
    assert KbLayout(inline_build.kb_dir).current() == serving
    kb = KnowledgeBase(inline_build)
    assert kb.stats().documents == 5 and kb.bm25.search(kb.lexicon.tokenize("城区抢修多久到"), k=1)
    assert ingest([corpus], inline_build, executor=InlineExecutor()).documents == 6  # the writer lock was released


def test_workers_end_when_the_ingesting_process_is_killed() -> None:
    pid = kill_and_watch_worker("from gridkb.storage.executors import ProcessExecutor\nexecutor = ProcessExecutor(1)")
    assert gone(pid), f"worker {pid} outlived the process that started it"


# --- the distributed engine: RQ over the Redis on this machine


@pytest.fixture()
def redis_url() -> str:
    pytest.importorskip("rq", reason="the rq extra is not installed: pip install 'gridkb[distributed]'")
    from redis import Redis, RedisError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error})")
    return REDIS_URL


@pytest.mark.integration
def test_two_rq_workers_build_what_the_inline_executor_builds(tmp_path: Path, inline_build: Settings, redis_url: str) -> None:
    from gridkb.storage.rq_executor import RqExecutor

    corpus, settings = corpus_and_settings(tmp_path, "kb-rq")
    executor = Watched(RqExecutor(redis_url, local_workers=2, queue=f"gridkb-test-{os.getpid()}"))
    try:
        report = ingest([corpus], settings, executor=executor)
    finally:
        executor.close()
    assert report.documents == 5 and not report.failed
    assert executor.submitted["parse_batch"] >= 1 and executor.submitted["embed_batch"] >= 3
    assert_same_generation(inline_build, settings)


@pytest.mark.integration
def test_an_rq_worker_dying_mid_batch_is_a_clear_error(tmp_path: Path, inline_build: Settings, redis_url: str) -> None:
    from gridkb.storage.rq_executor import RqExecutor

    corpus, settings = corpus_and_settings(tmp_path, "kb-rq-crash")
    executor = Watched(RqExecutor(redis_url, local_workers=2, queue=f"gridkb-test-crash-{os.getpid()}"), die_at_embed=2)
    try:
        with pytest.raises(WorkerFailedError, match="RQ worker process .* exited with status 3"):
            ingest([corpus], settings, executor=executor)
    finally:
        executor.close()
    assert KbLayout(settings.kb_dir).current() is None  # nothing half-built was published


@pytest.mark.integration
def test_local_rq_workers_end_when_the_ingesting_process_is_killed(redis_url: str) -> None:
    queue = f"gridkb-test-orphan-{os.getpid()}"
    pid = kill_and_watch_worker(f"from gridkb.storage.rq_executor import RqExecutor\nexecutor = RqExecutor({redis_url!r}, 1, queue={queue!r})")
    assert gone(pid), f"RQ worker {pid} outlived the process that started it"
