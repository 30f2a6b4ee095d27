"""BM25 over jieba tokens with bm25s: saved beside the generation, loaded with mmap.

A ``mask`` (bm25s ``weight_mask``) hides rows from a query, e.g. internal chunks from the public
channel or expired knowledge, without a second index.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np


class Bm25Index:
    """Rows are positions in the list of token lists the index was built from."""

    def __init__(self, retriever: bm25s.BM25, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, corpus_tokens: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> "Bm25Index":
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        # an empty token list would make bm25s index nothing for that row (and an empty corpus fails):
        # a placeholder keeps rows aligned; ``size`` stays the true row count
        rows = [list(t) or ["\u2400"] for t in corpus_tokens] or [["\u2400"]]
        retriever.index(rows, show_progress=False)
        return cls(retriever, len(corpus_tokens))

    @property
    def vocabulary(self) -> set[str]:
        return set(self._retriever.vocab_dict)

    def document_frequencies(self) -> dict[str, int]:
        """How many rows contain each token (from the index's column pointers, no re-tokenising)."""
        counts = np.diff(np.asarray(self._retriever.scores["indptr"]))
        return {token: int(counts[i]) for token, i in self._retriever.vocab_dict.items() if i < len(counts) and token}

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory))

    @classmethod
    def load(cls, directory: Path, size: int) -> "Bm25Index":
        return cls(bm25s.BM25.load(str(directory), mmap=True), size)

    def search(
        self, tokens: Sequence[str], k: int, mask: np.ndarray | None = None, extra: Sequence[str] = (), extra_weight: float = 0.3
    ) -> list[tuple[int, float]]:
        """Top rows for ``tokens``; ``extra`` tokens (query expansion) count ``extra_weight`` as much."""
        vocab = self._retriever.vocab_dict
        known = [t for t in tokens if t in vocab]
        more = [t for t in extra if t in vocab and t not in known]
        if not (known or more) or self.size == 0:
            return []
        scores = self._retriever.get_scores(known, weight_mask=mask) if known else 0.0
        if more:
            scores = scores + extra_weight * self._retriever.get_scores(more, weight_mask=mask)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
