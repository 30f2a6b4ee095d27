"""The one small interface the harness calls, and gridkb's systems behind it.

Until hybrid search and QA exist, gridkb is evaluated as its two raw retrievers (BM25 only, dense
only); their "answer" is the top passage and they never abstain. Later layers add systems here
without changing the harness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from gridkb.kb import KnowledgeBase
from gridkb.production.normalize import normalize_query


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the harness sees it, whatever system produced it."""

    source: str  # document path as ingested
    section: str
    text: str
    score: float
    also_in: tuple[str, ...] = ()  # sources of near-duplicates this passage stands for

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source, *self.also_in)


@dataclass(frozen=True)
class SystemAnswer:
    text: str
    resolved: bool
    category: str = ""
    options: tuple[str, ...] = ()  # a clarifying question's choices (the customer picks one next)
    confidence: float | None = None  # the system's probability that ``draft`` is right, if it has one
    draft: str = ""  # the answer it would give, even when it declines (for calibration)


class EvalSystem(Protocol):
    name: str

    def retrieve(self, question: str, k: int) -> list[Passage]: ...

    def answer(self, question: str) -> SystemAnswer: ...


class ConversationalSystem(Protocol):
    """A system that answers within a conversation (the chatbot), for the multi-turn set."""

    name: str

    def converse(self, question: str, history: Sequence[str]) -> SystemAnswer: ...

    def rewrite(self, question: str, history: Sequence[str]) -> str: ...


class _KbSystem:
    def __init__(self, kb: KnowledgeBase, audience: str = "internal") -> None:
        self.kb = kb
        self.audience = audience

    @cached_property
    def _mask(self) -> np.ndarray:
        """Rows the channel may see: internal staff see everything, the public channel only public chunks."""
        return np.array([1.0 if self.audience == "internal" or c.audience.value == "public" else 0.0 for c in self.kb.chunks], dtype=np.float32)

    def _passage(self, chunk_id: str, score: float) -> Passage:
        chunk = self.kb.chunk_by_id[chunk_id]
        return Passage(chunk.source, chunk.section, chunk.text, score)

    def retrieve(self, question: str, k: int) -> list[Passage]:
        raise NotImplementedError

    def answer(self, question: str) -> SystemAnswer:
        top = self.retrieve(question, 1)
        return SystemAnswer(top[0].text if top else "", resolved=bool(top))


class Bm25System(_KbSystem):
    name = "gridkb-bm25"

    def retrieve(self, question: str, k: int) -> list[Passage]:
        tokens = self.kb.lexicon.tokenize(normalize_query(question))
        hits = self.kb.bm25.search(tokens, k, mask=self._mask)
        return [self._passage(self.kb.chunks[row].id, score) for row, score in hits]


class DenseSystem(_KbSystem):
    name = "gridkb-dense"

    def retrieve(self, question: str, k: int) -> list[Passage]:
        text = normalize_query(question)
        if not text:
            return []
        vector = self.kb.embedder.embed_query(text)
        exact = self.kb.exact_vectors
        if exact is not None:  # dense search as gridkb serves it at this size
            return [self._passage(chunk_id, score) for chunk_id, score in exact.search(vector, k, self._mask.astype(bool))]
        where = None if self.audience == "internal" else {"audience": "public"}
        return [self._passage(chunk_id, score) for chunk_id, score in self.kb.vectors.search(vector, k, where=where)]


class HybridSystem(_KbSystem):
    """gridkb as customers and agents meet it: hybrid search, and question answering with abstention."""

    name = "gridkb"

    def __init__(self, kb: KnowledgeBase, audience: str = "internal", domain: bool = True) -> None:
        """``domain``: the power-supply knowledge base (domain gate and abstention on), or other text."""
        super().__init__(kb, audience)
        self.domain = domain

    @cached_property
    def _answerer(self):  # type: ignore[no-untyped-def]
        from gridkb.application.qa import QuestionAnswerer

        answerer = QuestionAnswerer(self.kb) if self.domain else QuestionAnswerer(self.kb, domain_gate=False, always_answer=True, rerank=False)
        answerer.warm_up()  # as a server does at start: models loaded, FAQ wordings analysed
        return answerer

    def answer(self, question: str) -> SystemAnswer:
        return self.converse(question, ())

    def converse(self, question: str, history: Sequence[str]) -> SystemAnswer:
        """Answer ``question`` after the earlier ``history`` of the conversation (oldest first)."""
        from gridkb.records import Audience

        self.kb.forget_query_vectors()  # the retrieve step just memoised this question's vector: time it cold
        trace = self._answerer.trace(question, history, audience=Audience(self.audience))
        result = trace.answer
        assert result is not None
        draft = trace.composed.text if trace.composed is not None else ""
        confidence = result.confidence if trace.composed is not None else None
        return SystemAnswer(result.answer, result.resolved, result.category, result.options, confidence, draft)

    def rewrite(self, question: str, history: Sequence[str]) -> str:
        """``question`` as the conversation makes it (a follow-up rewritten, a new question unchanged)."""
        return self._answerer.contextualise(question, history)

    def retrieve(self, question: str, k: int) -> list[Passage]:
        from gridkb.records import Audience

        self.kb.forget_query_vectors()
        hits = self._answerer.search(question, k, audience=Audience(self.audience))
        return [Passage(h.chunk.source, h.chunk.section, h.chunk.text, h.score, h.also_in) for h in hits]
