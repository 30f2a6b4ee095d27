"""Exact in-memory dense search over a real Chroma collection's vectors."""

from pathlib import Path

import numpy as np
import pytest

from gridkb.storage.chroma_index import ChromaVectorIndex, open_client
from gridkb.storage.exact_index import ExactVectorIndex


@pytest.fixture()
def collection(tmp_path: Path):
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"c{i:03d}" for i in range(300)]
    index = ChromaVectorIndex(open_client(tmp_path / "chroma", None), "chunks")
    index.add(ids, vectors, [{"n": i} for i in range(300)])
    return index, ids, vectors


def test_loads_every_vector_in_the_requested_order(collection):
    index, ids, vectors = collection
    order = list(reversed(ids))
    exact = ExactVectorIndex.load(index, order)
    assert exact.ids == order and exact.count() == 300
    assert np.allclose(exact.matrix, vectors[::-1], atol=1e-6)


def test_search_is_the_true_top_k_and_matches_chroma(collection):
    index, ids, vectors = collection
    exact = ExactVectorIndex.load(index, ids)
    query = vectors[5] + 0.3 * vectors[9]
    query /= np.linalg.norm(query)
    truth = np.argsort(-(vectors @ query))[:10]
    found = exact.search(query, 10)
    assert [i for i, _ in found] == [ids[r] for r in truth]
    assert found[0][1] == pytest.approx(float(vectors[truth[0]] @ query), abs=1e-5)
    chroma = index.search(query, 10)
    assert {i for i, _ in chroma} <= {i for i, _ in exact.search(query, 30)}  # Chroma's HNSW may miss, never invent


def test_a_scan_split_over_threads_scores_like_one_product(collection):
    _, ids, vectors = collection
    split = ExactVectorIndex(ids, vectors, parallel_rows=1)  # every scan in row blocks, as at 100,000 chunks
    query = vectors[7] - 0.5 * vectors[70]
    assert np.allclose(split.scores(query), vectors @ query, atol=1e-6)
    assert split.search(query, 10) == ExactVectorIndex(ids, vectors).search(query, 10)


def test_mask_hides_rows_and_never_pads(collection):
    index, ids, vectors = collection
    exact = ExactVectorIndex.load(index, ids)
    mask = np.zeros(300, dtype=bool)
    mask[[3, 50, 120]] = True
    found = exact.search(vectors[50], 10, mask)
    assert [i for i, _ in found][0] == "c050" and {i for i, _ in found} == {"c003", "c050", "c120"}
    assert exact.search(vectors[50], 10, np.zeros(300, dtype=bool)) == []


def test_mismatched_ids_are_refused():
    with pytest.raises(ValueError):
        ExactVectorIndex(["a", "b"], np.zeros((3, 4), dtype=np.float32))


def test_an_empty_collection_loads_and_finds_nothing(tmp_path: Path):
    empty = ExactVectorIndex.load(ChromaVectorIndex(open_client(tmp_path / "chroma", None), "faq"), [])  # a knowledge base without FAQs
    assert empty.count() == 0 and empty.search(np.ones(16, dtype=np.float32), 5) == []


def test_saved_matrix_reads_back_and_respects_the_size_limit(collection, tmp_path: Path):
    _, ids, vectors = collection
    ExactVectorIndex.save(tmp_path / "vectors.npy", vectors)
    exact = ExactVectorIndex.read(tmp_path / "vectors.npy", ids, max_rows=300)
    assert exact is not None and exact.ids == ids and np.array_equal(exact.matrix, vectors)
    assert ExactVectorIndex.read(tmp_path / "vectors.npy", ids, max_rows=299) is None


def test_a_built_generation_keeps_the_same_vectors_as_chroma(built_kb):
    from gridkb.kb import KnowledgeBase

    kb = KnowledgeBase(built_kb[0])
    from_file, from_chroma = kb.exact_vectors, ExactVectorIndex.load(kb.vectors, [c.id for c in kb.chunks])
    assert from_file is not None and from_file.ids == from_chroma.ids
    assert np.allclose(from_file.matrix, from_chroma.matrix, atol=1e-6)
    faq, chroma_faq = kb.exact_faq_vectors, ExactVectorIndex.load(kb.faq_vectors)
    row = {i: chroma_faq.matrix[n] for n, i in enumerate(chroma_faq.ids)}
    assert faq is not None and faq.count() > 0 and sorted(faq.ids) == sorted(row)
    assert all(np.allclose(faq.matrix[n], row[i], atol=1e-6) for n, i in enumerate(faq.ids))
