"""Recommendation: related questions (猜你想问) from FAQ neighbours and graph links, popular
questions per category, and related knowledge for an agent looking at a chunk."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gridkb.application.search import Searcher
from gridkb.kb import KnowledgeBase
from gridkb.organisation.taxonomy import UNKNOWN
from gridkb.records import Audience, Chunk, ChunkKind


@dataclass(frozen=True)
class Recommendation:
    question: str
    chunk_id: str
    category: str
    score: float


@dataclass(frozen=True)
class Recommendations:
    """What to suggest beside a question: related questions and the popular ones of its category."""

    related: list[Recommendation]
    popular: list[Recommendation]
    category: str  # the question's category, "unknown" when none fits (popular then spans all)

    def to_dict(self) -> dict[str, Any]:
        return {"related": [r.question for r in self.related], "popular": [r.question for r in self.popular], "category": self.category}


class Recommender:
    def __init__(self, kb: KnowledgeBase, searcher: Searcher | None = None, popularity: Mapping[str, int] | None = None) -> None:
        """``popularity``: how often each FAQ chunk was served (from the chat logs, when there are any)."""
        self.kb = kb
        self.searcher = searcher or Searcher(kb)
        self.popularity = Counter(popularity or {})

    def _visible(self, chunk: Chunk, audience: Audience) -> bool:
        return audience is Audience.INTERNAL or chunk.audience is Audience.PUBLIC

    def recommend(self, question: str, k: int = 5, audience: Audience = Audience.INTERNAL) -> Recommendations:
        """Related questions for ``question`` and popular ones of the category it is classified into
        (as search prepares it: normalised, synonyms resolved); both only what ``audience`` may see."""
        related = self.related_questions(question, k=k, audience=audience)
        category = self.kb.classify_question(self.searcher.prepare(question)).category
        popular = self.popular_questions(None if category == UNKNOWN else category, k=k, audience=audience)
        return Recommendations(related, popular, category)

    def related_questions(self, question: str, k: int = 5, audience: Audience = Audience.INTERNAL) -> list[Recommendation]:
        """FAQ questions near ``question``, then FAQs the graph links to the closest one; never the question itself."""
        hits = [h for h in self.searcher.search(question, k=k + 5, audience=audience) if h.chunk.kind is ChunkKind.FAQ]
        asked = self.searcher.prepare(question).rstrip("？?")
        found: dict[str, Recommendation] = {}
        for hit in hits:
            text = hit.chunk.faq_question
            if text.rstrip("？?") != asked:
                found.setdefault(hit.chunk.id, Recommendation(text, hit.chunk.id, hit.chunk.category, hit.score))
        if hits:
            for neighbour, _, weight in self.kb.graph.neighbours(f"chunk:{hits[0].chunk.id}", {"related"}):
                chunk = self.kb.chunk_by_id.get(neighbour.removeprefix("chunk:"))
                if chunk and chunk.kind is ChunkKind.FAQ and self._visible(chunk, audience):
                    found.setdefault(chunk.id, Recommendation(chunk.faq_question, chunk.id, chunk.category, weight * 0.01))
        unique: dict[str, Recommendation] = {}
        for item in found.values():
            unique.setdefault(item.question, item)
        return list(unique.values())[:k]

    def popular_questions(self, category: str | None = None, k: int = 5, audience: Audience = Audience.INTERNAL) -> list[Recommendation]:
        """Most served FAQs (chat logs), then the most restated ones (duplicate groups, related links)."""
        group_size = Counter({g.canonical: len(g.members) for g in self.kb.duplicates})
        scored = []
        for chunk in self.kb.chunks:
            if chunk.kind is not ChunkKind.FAQ or chunk.canonical_id or not self._visible(chunk, audience):
                continue
            if category and chunk.category != category:
                continue
            score = 100.0 * self.popularity[chunk.id] + group_size[chunk.id] + 0.1 * len(self.kb.graph.neighbours(f"chunk:{chunk.id}", {"related"}))
            scored.append(Recommendation(chunk.faq_question, chunk.id, chunk.category, score))
        return sorted(scored, key=lambda r: (-r.score, r.question))[:k]

    def related_knowledge(self, chunk_id: str, k: int = 5, audience: Audience = Audience.INTERNAL) -> list[tuple[Chunk, float]]:
        """Chunks linked to ``chunk_id`` by related and duplicate edges, then by shared entities."""
        scores: Counter[str] = Counter()
        node = f"chunk:{chunk_id}"
        for neighbour, _, weight in self.kb.graph.neighbours(node, {"related", "duplicate_of"}):
            scores[neighbour] += weight
        for entity, _, _ in self.kb.graph.neighbours(node, {"mentions"}):
            for other, _, _ in self.kb.graph.neighbours(entity, {"mentions"})[:50]:
                if other != node:
                    scores[other] += 0.05
        result = []
        for other, score in scores.most_common():
            chunk = self.kb.chunk_by_id.get(other.removeprefix("chunk:"))
            if chunk and self._visible(chunk, audience):
                result.append((chunk, round(score, 4)))
            if len(result) == k:
                break
        return result
