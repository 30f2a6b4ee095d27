"""Integration (知识整合): near-duplicate chunks and FAQ entries across documents, grouped under one
canonical item that keeps every source as provenance; plus related-item links for recommendation.

Similarity is the cosine of the passage embeddings, computed exactly in blocks (no ANN misses);
a pair is a duplicate when the vectors are very close *and* the texts share most of their
characters, so two answers that differ only in a number are related, not duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import numpy as np

from gridkb.production.normalize import compact
from gridkb.records import Chunk, ChunkKind, DuplicateGroup

DUPLICATE_COSINE = 0.93
DUPLICATE_TEXT = 0.55  # share of character bigrams in common (Dice)
RELATED_COSINE = 0.80
RELATED_PER_ITEM = 5


def top_neighbours(vectors: np.ndarray, k: int, min_cosine: float, block: int = 2048) -> list[list[tuple[int, float]]]:
    """For every row, the ``k`` most similar other rows with cosine ≥ ``min_cosine`` (exact, blockwise)."""
    n = len(vectors)
    result: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    if n < 2:
        return result
    k = min(k, n - 1)
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        for offset in range(sims.shape[0]):
            sims[offset, start + offset] = -1.0
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        for offset, row in enumerate(top):
            scored = sorted(((int(j), float(sims[offset, j])) for j in row if sims[offset, j] >= min_cosine), key=lambda x: -x[1])
            result[start + offset] = scored
    return result


def _bigrams(text: str) -> set[str]:
    clean = compact(text)
    return {clean[i : i + 2] for i in range(len(clean) - 1)}


def text_overlap(a: str, b: str) -> float:
    """Dice coefficient of character bigrams: 1.0 for the same text, low for different wording or numbers."""
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


_NUMBERS = re.compile(r"\d+(?:\.\d+)?")


def same_numbers(a: str, b: str) -> bool:
    """Every number of the shorter text also appears in the longer: 5 个工作日 and 32 个工作日 never merge."""
    short, long = sorted((a, b), key=len)
    return set(_NUMBERS.findall(short)) <= set(_NUMBERS.findall(long))


def _canonical_order(chunk: Chunk) -> tuple:  # type: ignore[type-arg]
    """Which member represents a group: a curated FAQ first, then the newest, public, longest text."""
    newest = date.fromisoformat(chunk.valid_from).toordinal() if chunk.valid_from else 0
    return (chunk.kind is not ChunkKind.FAQ, -newest, chunk.audience.value != "public", -len(chunk.text), chunk.id)


def duplicate_groups(chunks: Sequence[Chunk], vectors: np.ndarray, neighbours: list[list[tuple[int, float]]]) -> list[DuplicateGroup]:
    """Union-find over duplicate pairs in different documents (same audience and category); every group
    keeps all its members."""
    parent = list(range(len(chunks)))
    weakest: dict[int, float] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, row in enumerate(neighbours):
        for j, cosine in row:
            a, b = chunks[i], chunks[j]
            if cosine < DUPLICATE_COSINE or a.doc_id == b.doc_id or a.audience != b.audience or a.category != b.category:
                continue
            if text_overlap(a.text, b.text) < DUPLICATE_TEXT or not same_numbers(a.text, b.text):
                continue
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[ri] = rj
                weakest[rj] = min(cosine, weakest.get(ri, 1.0), weakest.get(rj, 1.0))
    members: dict[int, list[int]] = {}
    for i in range(len(chunks)):
        members.setdefault(find(i), []).append(i)
    groups = []
    for root, rows in members.items():
        if len(rows) < 2:
            continue
        ordered = sorted((chunks[r] for r in rows), key=_canonical_order)
        groups.append(
            DuplicateGroup(
                canonical=ordered[0].id,
                members=tuple(c.id for c in ordered),
                sources=tuple(dict.fromkeys(c.source for c in ordered)),
                similarity=round(weakest.get(root, 1.0), 4),
            )
        )
    return sorted(groups, key=lambda g: (-len(g.members), g.canonical))


def related_pairs(chunks: Sequence[Chunk], neighbours: list[list[tuple[int, float]]], duplicates: set[tuple[str, str]]) -> list[tuple[str, str, float]]:
    """(chunk id, chunk id, cosine) for related, not duplicate, chunks of different documents; each pair once."""
    pairs: dict[tuple[str, str], float] = {}
    for i, row in enumerate(neighbours):
        for j, cosine in row[:RELATED_PER_ITEM]:
            a, b = sorted((chunks[i].id, chunks[j].id))
            if chunks[i].doc_id != chunks[j].doc_id and (a, b) not in duplicates:
                pairs[(a, b)] = round(cosine, 4)
    return [(a, b, w) for (a, b), w in sorted(pairs.items())]
