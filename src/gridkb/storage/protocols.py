"""The storage seams. Each protocol's docstrings state the semantics every backend must keep;
``tests/storage`` runs the same contract tests against every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str  # identifies model and prompt convention; part of every embedding-cache key
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for documents, shape (len(texts), dim)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one search query, shape (dim,). Models with query/passage prompts use the query one."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors for many texts at once, shape (len(texts), dim)."""
        ...


class VectorIndex(Protocol):
    """Dense vectors by id with metadata; ``search`` returns (id, cosine similarity) best first."""

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, str | int | float | bool]]) -> None:
        """Insert or replace vectors; an id already present is overwritten."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove ids; unknown ids are ignored."""
        ...

    def search(self, vector: np.ndarray, k: int, where: dict[str, object] | None = None) -> list[tuple[str, float]]:
        """The ``k`` nearest ids, optionally filtered by a metadata ``where`` clause (Chroma syntax)."""
        ...

    def count(self) -> int:
        ...


class KeywordIndex(Protocol):
    """Lexical (BM25) retrieval over tokenised texts; positions are row numbers of the indexed list."""

    def search(self, tokens: Sequence[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) best first, only rows whose ``mask`` is non-zero, only positive scores."""
        ...
