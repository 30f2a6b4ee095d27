"""Hybrid search: BM25 and dense retrieval over chunks and over FAQ questions, fused by weighted
reciprocal-rank fusion, with query normalisation, synonym and entity expansion, audience, validity
and category filters, duplicate collapsing and highlighted snippets.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import cached_property
from typing import Any

import numpy as np

from gridkb.application.analysis import RULES_FILE, AnalysisRules
from gridkb.application.pinyin import PinyinResolver
from gridkb.application.retrievers import CANDIDATES, Query, registered
from gridkb.kb import KnowledgeBase
from gridkb.organisation.linking import expansion_terms
from gridkb.production.normalize import normalize_query
from gridkb.records import Audience, Chunk, Classification
from gridkb.storage.generation import NO_END, FaqWording, date_number

MAX_QUERY_CHARS = 500
QUESTION_WORDS = ("什么", "怎么", "怎样", "多少", "多久", "哪里", "需要", "可以", "能不能", "要不要", "是不是", "为什么", "几天", "资料", "办理", "申请")
SNIPPET_WIDTH = 160


class Retriever(str, Enum):
    """The built-in retrievers' names (``application/retrievers.py``), for the signals that read them."""

    BM25 = "bm25"
    DENSE = "dense"
    FAQ_BM25 = "faq_bm25"
    FAQ_DENSE = "faq_dense"


# RRF constant tuned on the domain dev split and the DRCD dev split together (scripts/tune_search.py)
RRF_K = 5
CATEGORY_BOOST = 0.0  # fused score × (1 + boost × confidence) for hits in the question's category (tuned: off)
LEXICAL_ALPHA, LEXICAL_FLOOR = 2.0, 0.3  # BM25 weight × lexical_boost(bm25_share), see lexical_boost


@dataclass(frozen=True)
class SearchHit:
    chunk: Chunk
    score: float
    ranks: dict[str, int]  # rank (1-based) in each retriever that found it
    snippet: str
    highlights: tuple[tuple[int, int], ...]  # character spans of ``snippet`` that match the query
    also_in: tuple[str, ...] = ()  # sources of duplicates collapsed into this hit
    dense_score: float = 0.0  # best cosine (chunk or FAQ question) seen for this hit
    bm25_score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The hit as the API and ``gridkb search --json`` show it (plain JSON types)."""
        chunk = self.chunk
        return {
            "title": chunk.title_path[0], "section": chunk.section, "title_path": list(chunk.title_path), "snippet": self.snippet,
            "highlights": [list(span) for span in self.highlights], "score": self.score, "category": chunk.category,
            "source": chunk.source, "audience": chunk.audience.value, "also_in": list(self.also_in), "chunk_id": chunk.id,
            "ranks": dict(self.ranks),
        }


@dataclass
class RetrievalSignals:
    """Raw evidence of one search, for the QA layer's confidence."""

    hits: list[SearchHit] = field(default_factory=list)
    query: str = ""
    tokens: list[str] = field(default_factory=list)
    best_dense: float = 0.0
    best_faq_dense: float = 0.0
    best_bm25: float = 0.0
    classification: Classification | None = None


def fusion_weights() -> dict[str, float]:
    """Each registered retriever's weight in reciprocal-rank fusion."""
    return {r.retriever.name: r.weight for r in registered()}


def fuse(rankings: dict[str, list[tuple[str, float]]], weights: dict[str, float], k: int = RRF_K) -> dict[str, float]:
    """Weighted reciprocal-rank fusion: Σ weight / (k + rank) over the retrievers that found an item."""
    scores: dict[str, float] = {}
    for retriever, ranking in rankings.items():
        weight = weights.get(retriever, 0.0)
        if not weight:
            continue
        for rank, (item, _) in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return scores


def lexical_boost(share: float, alpha: float = LEXICAL_ALPHA, floor: float = LEXICAL_FLOOR) -> float:
    """How much more BM25 counts for this question: 1 when its best passage covers at most ``floor``
    of the question's words (by IDF), rising to 1 + ``alpha`` when it covers them all. Questions that
    copy the wording of a passage are BM25's; colloquial ones stay with the dense retrievers."""
    return 1.0 + alpha * min(1.0, max(0.0, (share - floor) / (1.0 - floor)))


def boost_category(scores: dict[str, float], kb: KnowledgeBase, classification: Classification, boost: float) -> dict[str, float]:
    """Raise items of the question's category (when the classifier is sure enough to name one)."""
    if not boost or classification.category == "unknown":
        return scores
    by_id = kb.chunk_by_id
    factor = 1.0 + boost * classification.confidence
    return {i: s * factor if by_id[i].category == classification.category else s for i, s in scores.items()}


def _cosines(vectors: dict[str, np.ndarray], query: np.ndarray) -> dict[str, float]:
    return {i: float(np.dot(v, query)) for i, v in vectors.items()}


def highlight(text: str, terms: Sequence[str], width: int = SNIPPET_WIDTH) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A snippet of ``text`` around the densest match of ``terms``, with the matching spans."""
    return _highlight(text, _terms_pattern(terms), width)


def _terms_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """The search terms worth highlighting (two characters or more, or a number), longest first."""
    terms = sorted({t for t in terms if len(t) >= 2 or t.isdigit()}, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in terms)) if terms else None


def _highlight(text: str, pattern: re.Pattern[str] | None, width: int) -> tuple[str, tuple[tuple[int, int], ...]]:
    matches = list(pattern.finditer(text)) if pattern else []
    start = 0
    if matches and len(text) > width:
        starts = [m.start() for m in matches]  # increasing: matches do not overlap
        # the first match that begins the window holding the most matches
        best = max(range(len(starts)), key=lambda i: bisect.bisect_left(starts, starts[i] + width) - i)
        start = max(0, matches[best].start() - 20)
    snippet = text[start : start + width]
    spans = tuple((m.start() - start, m.end() - start) for m in matches if m.start() >= start and m.end() <= start + width)
    return snippet, spans


class Searcher:
    """Search over one knowledge-base generation."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    @cached_property
    def _pinyin(self) -> PinyinResolver:
        return PinyinResolver(self._vocabulary, self._syllables)

    def _syllables(self) -> list[str]:
        """The single characters a lone pinyin syllable may stand for: the analysis rules' actions
        (交, 算, 装…, in their order) before the particles and question words (了, 吗, 啥…), the
        commoner first (you → 有, not 又)."""
        rules = AnalysisRules.load(self.kb.settings.config_dir / RULES_FILE)
        frequency = self.kb.lexicon.tokenizer.FREQ
        particles = sorted((w for w in rules.function_words if len(w) == 1), key=lambda w: (-frequency.get(w, 0), w))
        return [w for w in rules.actions if len(w) == 1] + particles

    def _vocabulary(self) -> Iterable[tuple[str, int]]:
        """The words pinyin may stand for, with how common each is."""
        frequency = Counter(self.kb.document_frequency)
        frequency.update({surface: 1000 for surface in self.kb.lexicon.by_surface})
        frequency.update({word: 500 for word in QUESTION_WORDS})
        return frequency.items()

    def warm_up(self) -> None:
        """Build the pinyin table a typed-pinyin or misspelt question needs, before the first one."""
        self._pinyin.warm_up()

    def query_vector(self, query: str) -> np.ndarray:
        """The query's vector as retrieval computes it (memoised: a question just searched is free)."""
        return self.kb.query_vector(self.prepare(query))

    def prepare(self, query: str) -> str:
        """The query as the indexes see it: normalised, truncated, pinyin turned into Chinese words,
        homophone typos corrected."""
        clean = normalize_query(query[:MAX_QUERY_CHARS])
        if re.search(r"[A-Za-z]{4,}", clean):
            clean = self._pinyin.convert(clean)
        return self._pinyin.correct(list(self.kb.lexicon.tokenizer.cut(clean)), self._is_known_word)

    def _is_known_word(self, word: str) -> bool:
        """Right as written: a word of the knowledge base or of jieba's general dictionary."""
        return word in self.kb.document_frequency or self.kb.lexicon.in_dictionary(word)

    @cached_property
    def faq_rows(self) -> list[FaqWording]:
        """Every FAQ wording (the question and each alternative), one per row of the FAQ indexes."""
        return self.kb.faq_wordings

    @cached_property
    def _chunk_of_faq(self) -> dict[str, str]:
        return {c.faq_id: c.id for c in self.kb.chunks if c.faq_id}

    @cached_property
    def _row_of_chunk(self) -> dict[str, int]:
        return {c.id: i for i, c in enumerate(self.kb.chunks)}

    @cached_property
    def _columns(self) -> dict[str, np.ndarray]:
        """Per-chunk audience, validity and category as arrays, so a filter mask is a few vector ops."""
        chunks = self.kb.chunks
        return {
            "public": np.array([c.audience is Audience.PUBLIC for c in chunks], dtype=bool),
            "valid_from": np.array([date_number(c.valid_from, 0) for c in chunks], dtype=np.int64),
            "valid_to": np.array([date_number(c.valid_to, NO_END) for c in chunks], dtype=np.int64),
            "category": np.array([c.category for c in chunks], dtype=object),
        }

    def _mask(self, audience: Audience, category: str | None, today: date) -> np.ndarray:
        columns = self._columns
        day = date_number(today.isoformat(), 0)
        visible = (columns["valid_from"] <= day) & (columns["valid_to"] >= day)
        if audience is Audience.PUBLIC:
            visible &= columns["public"]
        if category:
            visible &= columns["category"] == category
        return visible.astype(np.float32)

    @staticmethod
    def _where(audience: Audience, category: str | None, today: date) -> dict[str, object]:
        day = date_number(today.isoformat(), 0)
        clauses: list[dict[str, object]] = [{"valid_to": {"$gte": day}}, {"valid_from": {"$lte": day}}]
        if audience is Audience.PUBLIC:
            clauses.append({"audience": "public"})
        if category:
            clauses.append({"category": category})
        return {"$and": clauses}

    def retrieve(
        self,
        query: str,
        k: int = 10,
        category: str | None = None,
        audience: Audience = Audience.INTERNAL,
        today: date | None = None,
        extra_terms: Sequence[str] = (),
    ) -> RetrievalSignals:
        """Fused, de-duplicated hits with the raw signals the QA layer needs (``extra_terms``: more
        words for the keyword retrievers, such as the other ways of writing the question's action)."""
        today = today or date.today()
        clean = self.prepare(query)
        signals = RetrievalSignals(query=clean)
        if not clean:
            return signals
        lexicon = self.kb.lexicon
        tokens = lexicon.tokenize(clean)
        terms = [*expansion_terms(clean, lexicon), *extra_terms]
        expansion = list(dict.fromkeys(t for term in terms for t in lexicon.tokenize(term) if t not in tokens))
        signals.tokens = tokens
        rankings = self.rankings(clean, tokens, expansion, audience, category, today)
        signals.best_dense = max((s for _, s in rankings[Retriever.DENSE]), default=0.0)
        signals.best_faq_dense = max((s for _, s in rankings[Retriever.FAQ_DENSE]), default=0.0)
        signals.best_bm25 = max((s for _, s in rankings[Retriever.BM25]), default=0.0)
        signals.classification = self.kb.classifier.classify(self.kb.query_vector(clean), clean)
        weights = fusion_weights()
        weights[Retriever.BM25] *= lexical_boost(self.bm25_share(rankings, tokens))
        fused = boost_category(fuse(rankings, weights), self.kb, signals.classification, CATEGORY_BOOST)
        signals.hits = self._collapse(rankings, fused, k, tokens)
        return signals

    def rankings(
        self, clean: str, tokens: list[str], expansion: list[str], audience: Audience, category: str | None, today: date
    ) -> dict[str, list[tuple[str, float]]]:
        """Each registered retriever's ranking of visible chunk ids, best first (the input of fusion)."""
        query = Query(self, clean, tokens, expansion, audience, category, today, self._mask(audience, category, today))
        return {r.retriever.name: r.retriever.rank(query) for r in registered()}

    def dense_chunks(self, query: Query) -> list[tuple[str, float]]:
        """(chunk id, cosine) of the visible chunks nearest the query."""
        vector, mask, audience, category, today = query.vector, query.mask, query.audience, query.category, query.today
        exact = self.kb.exact_vectors
        if exact is not None:  # rows are in chunk order: the filter mask applies as it is
            return exact.search(vector, CANDIDATES, mask.astype(bool))
        visible = lambda chunk_id: bool(mask[self._row_of_chunk[chunk_id]])  # noqa: E731
        return self._dense(self.kb.vectors, vector, self._where(audience, category, today), category, visible)

    def dense_faqs(self, query: Query) -> list[tuple[str, float]]:
        """(faq id, cosine) of the FAQ questions nearest the query whose FAQ chunk the caller may see."""
        vector, mask, audience, category, today = query.vector, query.mask, query.audience, query.category, query.today
        exact = self.kb.exact_faq_vectors
        if exact is not None:
            rows = self._chunk_row_of_faq_vector
            faq_mask = (rows >= 0) & mask.astype(bool)[np.maximum(rows, 0)]
            hits = exact.search(vector, CANDIDATES, faq_mask)
        else:
            visible = lambda i: (c := self._chunk_of_faq.get(i.rsplit(":", 1)[0])) is not None and bool(mask[self._row_of_chunk[c]])  # noqa: E731
            hits = self._dense(self.kb.faq_vectors, vector, self._where(audience, category, today), category, visible)
        return [(i.rsplit(":", 1)[0], score) for i, score in hits]

    def chunk_cosines(self, vector: np.ndarray, chunk_ids: Sequence[str]) -> dict[str, float]:
        """Cosine of the query with each of these chunks (any chunk, not only the nearest ones)."""
        exact = self.kb.exact_vectors
        if exact is not None:
            rows = [self._row_of_chunk[i] for i in chunk_ids]
            return dict(zip(chunk_ids, exact.row_scores(vector, rows).tolist(), strict=True))
        return _cosines(self.kb.vectors.get_vectors(chunk_ids), vector)

    def wording_cosines(self, vector: np.ndarray, wording_ids: Sequence[str]) -> dict[str, float]:
        """Cosine of the query with each of these FAQ wordings."""
        exact = self.kb.exact_faq_vectors
        if exact is not None:
            known = [i for i in wording_ids if i in self._row_of_wording]
            return dict(zip(known, exact.row_scores(vector, [self._row_of_wording[i] for i in known]).tolist(), strict=True))
        return _cosines(self.kb.faq_vectors.get_vectors(wording_ids), vector)

    @cached_property
    def _row_of_wording(self) -> dict[str, int]:
        exact = self.kb.exact_faq_vectors
        return {i: n for n, i in enumerate(exact.ids)} if exact is not None else {}

    @cached_property
    def _chunk_row_of_faq_vector(self) -> np.ndarray:
        """For each in-memory FAQ-question vector, the row of its FAQ chunk (-1 when the FAQ has none)."""
        ids = self.kb.exact_faq_vectors.ids if self.kb.exact_faq_vectors is not None else []
        rows = [self._row_of_chunk.get(self._chunk_of_faq.get(i.rsplit(":", 1)[0], ""), -1) for i in ids]
        return np.asarray(rows, dtype=np.int64)

    def bm25_share(self, rankings: dict[str, list[tuple[str, float]]], tokens: list[str]) -> float:
        """The best BM25 score over the most the question's words could score (their IDF sum): about
        1 when one passage holds every word of the question."""
        best = max((score for _, score in rankings[Retriever.BM25]), default=0.0)
        frequency, size = self.kb.document_frequency, len(self.kb.chunks)
        ceiling = sum(math.log(1 + (size - frequency.get(t, 0) + 0.5) / (frequency.get(t, 0) + 0.5)) for t in set(tokens))
        return best / ceiling if ceiling else 0.0

    @staticmethod
    def _dense(index, vector: np.ndarray, where: dict[str, object], category: str | None, visible) -> list[tuple[str, float]]:  # type: ignore[no-untyped-def]
        """Dense candidates the caller may see. Chroma's metadata filter costs more than the search
        itself on a small index, so the usual query over-fetches unfiltered and drops what the mask
        hides; a category filter, or a filter that hides too much, goes to Chroma."""
        if not category:
            hits = index.search(vector, 2 * CANDIDATES)
            kept = [(i, score) for i, score in hits if visible(i)]
            if len(kept) >= CANDIDATES or len(hits) >= index.count():
                return kept[:CANDIDATES]
        return index.search(vector, CANDIDATES, where=where)

    def search(
        self, query: str, k: int = 10, category: str | None = None, audience: Audience = Audience.INTERNAL, today: date | None = None
    ) -> list[SearchHit]:
        """The top ``k`` hits for ``query`` (see ``retrieve``)."""
        return self.retrieve(query, k, category, audience, today).hits

    def faq_ranking(self, faq_hits: list[tuple[str, float]], mask: np.ndarray) -> list[tuple[str, float]]:
        """FAQ question hits → their FAQ chunks, best score per chunk, only chunks the caller may see."""
        best: dict[str, float] = {}
        for faq_id, score in faq_hits:
            chunk_id = self._chunk_of_faq.get(faq_id)
            if chunk_id and mask[self._row_of_chunk[chunk_id]] and score > best.get(chunk_id, float("-inf")):
                best[chunk_id] = score
        return sorted(best.items(), key=lambda x: -x[1])

    def _collapse(self, rankings: dict[str, list[tuple[str, float]]], fused: dict[str, float], k: int, tokens: list[str]) -> list[SearchHit]:
        """Duplicates fold into their canonical item (best score wins, every source is kept)."""
        by_id = self.kb.chunk_by_id
        ranks: dict[str, dict[str, int]] = {}
        raw: dict[str, dict[str, float]] = {}
        for retriever, ranking in rankings.items():
            for rank, (item, score) in enumerate(ranking, start=1):
                ranks.setdefault(item, {})[retriever] = rank
                raw.setdefault(item, {})[retriever] = score
        groups: dict[str, list[str]] = {}
        for item in sorted(fused, key=lambda i: -fused[i]):
            groups.setdefault(by_id[item].canonical_id or item, []).append(item)
        hits = []
        pattern = _terms_pattern(tokens)  # one pattern for every snippet of this query
        for head, members in list(groups.items())[:k]:  # groups are in fused order: only the top k need snippets
            best = members[0]
            chunk = by_id[head] if head in fused else by_id[best]
            scores = [raw.get(m, {}) for m in members]
            snippet, spans = _highlight(chunk.text, pattern, SNIPPET_WIDTH)
            hits.append(
                SearchHit(
                    chunk=chunk,
                    score=round(fused[best], 6),
                    ranks=ranks.get(best, {}),
                    snippet=snippet,
                    highlights=spans,
                    also_in=tuple(dict.fromkeys(by_id[m].source for m in members if by_id[m].source != chunk.source)),
                    dense_score=max((max(s.get(Retriever.DENSE, 0.0), s.get(Retriever.FAQ_DENSE, 0.0)) for s in scores), default=0.0),
                    bm25_score=max((s.get(Retriever.BM25, 0.0) for s in scores), default=0.0),
                )
            )
        hits.sort(key=lambda h: -h.score)
        return hits[:k]
