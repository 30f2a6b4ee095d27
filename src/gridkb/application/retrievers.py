"""The retrievers that hybrid search fuses: each ranks the chunks a caller may see for one query.

A retriever is a small object with a ``name`` and a ``rank(searcher, query)`` method returning
``(chunk id, score)`` pairs, best first. Adding one is one new class (in its own module if it needs
an index of its own, read through the ``Searcher``'s knowledge base) and one ``register`` call; fusion
(weighted reciprocal rank, ``search.fuse``) picks it up with its weight, and its rank shows in every
hit's ``ranks``. The four built in: BM25 and dense over chunks, BM25 and dense over FAQ wordings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

import numpy as np

from gridkb.records import Audience

if TYPE_CHECKING:
    from gridkb.application.search import Searcher

CANDIDATES = 40  # each retriever's ranking length, the input of fusion


@dataclass
class Query:
    """One search as every retriever sees it: the prepared text, its tokens, the expansion terms for
    the keyword retrievers, who asks (audience), the filters, and which chunk rows are visible."""

    searcher: Searcher
    text: str
    tokens: list[str]
    expansion: list[str]
    audience: Audience
    category: str | None
    today: date
    mask: np.ndarray  # 1.0 for each chunk row the caller may see

    @cached_property
    def vector(self) -> np.ndarray:
        """The query embedding, computed once for every dense retriever (and memoised by the knowledge base)."""
        return self.searcher.kb.query_vector(self.text)


class RetrieverStage(Protocol):
    name: str

    def rank(self, query: Query) -> list[tuple[str, float]]:
        """Visible chunk ids with this retriever's score, best first, at most ``CANDIDATES``."""
        ...


@dataclass(frozen=True)
class ChunkBm25:
    name: str = "bm25"

    def rank(self, query: Query) -> list[tuple[str, float]]:
        kb = query.searcher.kb
        found = kb.bm25.search(query.tokens, CANDIDATES, mask=query.mask, extra=query.expansion)
        return [(kb.chunks[row].id, score) for row, score in found]


@dataclass(frozen=True)
class ChunkDense:
    name: str = "dense"

    def rank(self, query: Query) -> list[tuple[str, float]]:
        return query.searcher.dense_chunks(query)


@dataclass(frozen=True)
class FaqBm25:
    """Keyword match against every FAQ wording (question and alternatives), ranked as their FAQ chunks."""

    name: str = "faq_bm25"

    def rank(self, query: Query) -> list[tuple[str, float]]:
        searcher = query.searcher
        found = searcher.kb.faq_bm25.search(query.tokens, CANDIDATES, extra=query.expansion)
        return searcher.faq_ranking([(searcher.faq_rows[row].faq_id, score) for row, score in found], query.mask)


@dataclass(frozen=True)
class FaqDense:
    """Nearest FAQ wordings to the query, ranked as their FAQ chunks."""

    name: str = "faq_dense"

    def rank(self, query: Query) -> list[tuple[str, float]]:
        return query.searcher.faq_ranking(query.searcher.dense_faqs(query), query.mask)


@dataclass(frozen=True)
class Registration:
    retriever: RetrieverStage
    weight: float  # its weight in reciprocal-rank fusion


_REGISTERED: dict[str, Registration] = {}


def register(retriever: RetrieverStage, weight: float = 1.0) -> None:
    """Make ``retriever`` part of every search (replacing one of the same name)."""
    _REGISTERED[retriever.name] = Registration(retriever, weight)


def registered() -> tuple[Registration, ...]:
    return tuple(_REGISTERED.values())


# RRF weights tuned on the domain dev split and the DRCD dev split together (scripts/tune_search.py)
for _builtin in (ChunkBm25(), ChunkDense(), FaqBm25(), FaqDense()):
    register(_builtin, weight=1.0)
