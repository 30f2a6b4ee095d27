"""Candidates for answering, the second stage: every FAQ wording and passage hybrid retrieval found,
described by the features the reranker weighs.

An FAQ is matched through each of its wordings on its own (the question and every alternative
wording), so "交电费有哪些方式" meets the FAQ through the alternative that says so. A candidate's
features say how well it answers *this* question, not only how many words it shares with it: the
share of the question's subject it covers, the share of its own subject the question asks about
(an FAQ on 多交的电费 is about more than 交电费), whether it asks for the same kind of information
and whether its answer holds that kind (a price, a date, channels…), customer-type and action
agreement, category agreement, and the retrieval scores.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from gridkb.application.analysis import InfoKind, QuestionAnalyser, QuestionAnalysis, idf
from gridkb.application.compose import extract
from gridkb.application.search import RetrievalSignals, SearchHit, Searcher
from gridkb.kb import KnowledgeBase
from gridkb.records import ChunkKind

_WORD_CHAR = re.compile(r"[\w\u4e00-\u9fff]")
MISSING = float("nan")  # a feature that does not apply (LightGBM's missing value)
VERB_WEIGHT = 0.5
# a unit holding the kind of information asked (a price for 怎么算) outranks one that only repeats a
# word of the question more (分别执行不同电价 against 峰、平、谷电价比为 1.7 : 1 : 0.38), when that
# kind shows in specific signs (an amount, a duration, a date, channels, documents, who is liable);
# the signs of a definition, a procedure or a yes/no (是…的, 申请, 可以) are in most sentences, so
# there holding the kind weighs half a word
ASKED_WEIGHT = 1.0
BROAD_EVIDENCE_WEIGHT = 0.5
BROAD_EVIDENCE = frozenset({InfoKind.DEFINITION, InfoKind.PROCEDURE, InfoKind.YES_NO})
ACTION_WEIGHT = 1.5  # an action (交, 办, 装…) weighs like a common subject word; its words say little alone
KIND_CODES = {kind: float(n) for n, kind in enumerate(InfoKind)}
FEATURES = (
    "is_faq",
    "fused",
    "fused_rank",
    "dense",
    "wording_dense",
    "bm25_share",
    "subject_recall",
    "subject_recall_text",
    "subject_precision",
    "extra_subject_words",
    "char_overlap",
    "wording_overlap",
    "kind_primary_match",
    "kind_overlap",
    "kind_evidence",
    "customer_agreement",
    "action_agreement",
    "category_match",
    "category_confidence",
    "question_kind",
    "question_subject_words",
    "unknown_subject_share",
    "unknown_names",
    "answer_chars",
)


@dataclass(frozen=True)
class Candidate:
    """One way to answer a question: an FAQ through one of its wordings, or a passage."""

    hit: SearchHit
    wording: str  # the FAQ wording compared with the question ("" for a passage)
    answer: str  # what it answers with: the FAQ's answer, or the passage's units that hold what was asked
    features: tuple[float, ...]  # in FEATURES order

    @property
    def is_faq(self) -> bool:
        return self.hit.chunk.kind is ChunkKind.FAQ

    @property
    def question(self) -> str:
        """The FAQ's main question ("" for a passage)."""
        return self.hit.chunk.faq_question

    def feature(self, name: str) -> float:
        return self.features[_FEATURE_INDEX[name]]


_FEATURE_INDEX = {name: n for n, name in enumerate(FEATURES)}


@dataclass(frozen=True)
class WordingProfile:
    """What the features of a candidate need of one FAQ wording: fixed for the generation, so worked
    out once (at warm-up) rather than for every question that meets the wording."""

    analysis: QuestionAnalysis
    text: str  # lower-cased
    actions: tuple[str, ...]  # its actions as subject words (动作:缴费)
    action_classes: frozenset[str]
    kinds: frozenset[InfoKind]
    subject_bigrams: frozenset[str]
    letter_bigrams: frozenset[str]
    letters: str  # its words in order, without punctuation

    @classmethod
    def of(cls, analysis: QuestionAnalysis) -> "WordingProfile":
        return cls(
            analysis, analysis.text.lower(), tuple(_action_word(a) for a in analysis.actions), frozenset(analysis.actions),
            frozenset(analysis.kinds), frozenset(_bigrams("".join(analysis.subject))), frozenset(_bigrams(_letters(analysis.text))),
            _letters(analysis.text),
        )


class CandidateFinder:
    """Turns the hits of one retrieval into described candidates."""

    def __init__(self, kb: KnowledgeBase, searcher: Searcher, analyser: QuestionAnalyser) -> None:
        self.kb = kb
        self.searcher = searcher
        self.analyser = analyser
        self._wording_profiles: dict[str, WordingProfile] = {}
        self._faq_answer_kinds: dict[str, frozenset[InfoKind]] = {}
        self._customers_named: dict[tuple[str, str], frozenset[str]] = {}

    @cached_property
    def _wordings(self) -> dict[str, list[tuple[str, str]]]:
        """FAQ id → its (wording id, wording) pairs: the question first, then the alternatives."""
        table: dict[str, list[tuple[str, str]]] = {}
        for wording in self.searcher.faq_rows:
            table.setdefault(wording.faq_id, []).append((wording.id, wording.text))
        return table

    def warm_up(self) -> None:
        """Analyse every FAQ wording now (about 2 ms each), not while a customer waits."""
        for rows in self._wordings.values():
            for wording_id, text in rows:
                self._profile(wording_id, text)

    def _profile(self, wording_id: str, text: str) -> WordingProfile:
        profile = self._wording_profiles.get(wording_id)
        if profile is None:
            profile = self._wording_profiles.setdefault(wording_id, WordingProfile.of(self.analyser.analyse(text)))
        return profile

    def _customers(self, wording_id: str, profile: WordingProfile, chunk_id: str, answer: str) -> frozenset[str]:
        """The customer types a wording and its FAQ's answer name (fixed for the generation)."""
        named = self._customers_named.get((wording_id, chunk_id))
        if named is None:
            named = self._customers_named.setdefault((wording_id, chunk_id), self.analyser.customers_in(profile.analysis.text + answer))
        return named

    def _answer_kinds(self, chunk_id: str, answer: str) -> frozenset[InfoKind]:
        """The kinds of information an FAQ's answer holds (fixed for the generation: computed once)."""
        kinds = self._faq_answer_kinds.get(chunk_id)
        if kinds is None:
            kinds = self._faq_answer_kinds.setdefault(chunk_id, self.analyser.evidence(answer))
        return kinds

    def unit_scorer(self, question: QuestionAnalysis, signals: RetrievalSignals) -> Callable[[str], float]:
        """How well a sentence, list or table answers this question (see ``unit_score``)."""
        return _QuestionContext.of(question, self.analyser, self.kb, signals).unit_score

    def run(self, question: QuestionAnalysis, signals: RetrievalSignals) -> list[Candidate]:
        """One candidate per passage hit and per wording of each FAQ hit."""
        if not signals.hits:
            return []
        vector = self.kb.query_vector(signals.query)
        chunk_cosines = self.searcher.chunk_cosines(vector, [h.chunk.id for h in signals.hits])
        faq_ids = [h.chunk.faq_id for h in signals.hits if h.chunk.kind is ChunkKind.FAQ and h.chunk.faq_id]
        wording_ids = [w for f in faq_ids for w, _ in self._wordings.get(f, ())]
        wording_cosines = self.searcher.wording_cosines(vector, wording_ids)
        context = _QuestionContext.of(question, self.analyser, self.kb, signals)
        candidates = []
        for rank, hit in enumerate(signals.hits, start=1):
            shared = context.shared_features(hit, rank, chunk_cosines.get(hit.chunk.id, hit.dense_score))
            if hit.chunk.kind is ChunkKind.FAQ and hit.chunk.faq_id in self._wordings:
                answer = hit.chunk.answer_text
                kinds = self._answer_kinds(hit.chunk.id, answer)
                for wording_id, wording in self._wordings[hit.chunk.faq_id]:
                    profile = self._profile(wording_id, wording)
                    named = self._customers(wording_id, profile, hit.chunk.id, answer)
                    own = context.wording_features(profile, answer, kinds, named, wording_cosines.get(wording_id, MISSING))
                    candidates.append(Candidate(hit, wording, answer, _ordered({**shared, **own})))
            else:
                answer = extract(hit.chunk.text, context.unit_score)
                own = context.passage_features(answer, hit.chunk.section)
                candidates.append(Candidate(hit, "", answer, _ordered({**shared, **own})))
        return candidates


_IN_FEATURE_ORDER = operator.itemgetter(*FEATURES)


def _ordered(values: dict[str, float]) -> tuple[float, ...]:
    return tuple(map(float, _IN_FEATURE_ORDER(values)))


@dataclass(frozen=True)
class _QuestionContext:
    """What every candidate of one question is compared with."""

    question: QuestionAnalysis
    analyser: QuestionAnalyser
    weights: dict[str, float]  # subject word → IDF
    bm25_ceiling: float
    category: str
    category_confidence: float
    unknown_share: float
    unknown_names: int  # proper names of the question the knowledge base never uses (上海, 特斯拉)
    terms: tuple[str, ...]  # the question's search tokens of two characters or more, and its numbers
    # worked out once per question rather than once per candidate:
    text: str  # the question, lower-cased
    subject_bigrams: frozenset[str]
    letter_bigrams: frozenset[str]
    kinds: frozenset[InfoKind]
    action_classes: frozenset[str]
    unused: frozenset[str]  # subject words no chunk holds
    letters: str  # the question's words in order, without punctuation
    said: dict[str, bool] = field(default_factory=dict)  # subject word → whether the question mentions it

    @classmethod
    def of(cls, question: QuestionAnalysis, analyser: QuestionAnalyser, kb: KnowledgeBase, signals: RetrievalSignals) -> "_QuestionContext":
        size = len(kb.chunks)
        frequency = kb.document_frequency
        # the things named weigh fully; what is done to them (verbs, adjectives) half
        weights = {w: idf(w, frequency, size) * (1.0 if w in question.topic else VERB_WEIGHT) for w in question.subject}
        weights.update({_action_word(a): ACTION_WEIGHT for a in question.actions})
        ceiling = sum(idf(t, frequency, size) for t in set(signals.tokens))
        unused = frozenset(w for w in question.subject if frequency.get(w, 0) == 0)
        unknown = sum(weights[w] for w in unused) / sum(weights.values()) if weights else 0.0
        classification = signals.classification
        category = classification.category if classification and classification.category != "unknown" else ""
        confidence = classification.confidence if classification else 0.0
        terms = tuple(t for t in signals.tokens if len(t) >= 2 or t.isdigit())
        unknown_names = sum(1 for name in question.names if frequency.get(name.lower(), 0) == 0)
        return cls(
            question, analyser, weights, ceiling, category, confidence, unknown, unknown_names, terms, question.text.lower(),
            frozenset(_bigrams("".join(question.subject))), frozenset(_bigrams(_letters(question.text))), frozenset(question.kinds),
            frozenset(question.actions), unused, _letters(question.text),
        )

    def unit_score(self, unit: str) -> float:
        """How well one sentence, list or table of a passage answers the question: the question's
        words it repeats, whether it holds the kind of information asked and a figure, and whether it
        is about the customer type asked (one word more; one less when it names only other types,
        居民… for 企业峰谷电价怎么算)."""
        clean = unit.lower()  # chunk text is normalised at ingestion
        asked = self.question.kind is not InfoKind.OTHER and self.analyser.holds(unit, self.question.kind)
        words = sum(1 for t in self.terms if t in clean)  # every search term of the question it repeats
        weight = BROAD_EVIDENCE_WEIGHT if self.question.kind in BROAD_EVIDENCE else ASKED_WEIGHT
        return words + weight * float(asked) + 0.5 * any(c.isdigit() for c in unit) + self._customer_agreement(unit)

    def shared_features(self, hit: SearchHit, rank: int, dense: float) -> dict[str, float]:
        chunk = hit.chunk
        return {
            "is_faq": float(chunk.kind is ChunkKind.FAQ),
            "fused": hit.score,
            "fused_rank": float(rank),
            "dense": dense,
            "bm25_share": hit.bm25_score / self.bm25_ceiling if self.bm25_ceiling else 0.0,
            "subject_recall_text": self._recall(chunk.text.lower()),
            "category_match": float(chunk.category == self.category) if self.category else MISSING,
            "category_confidence": self.category_confidence,
            "question_kind": KIND_CODES[self.question.kind],
            "question_subject_words": float(len(self.question.subject)),
            "unknown_subject_share": self.unknown_share,
            "unknown_names": float(min(2, self.unknown_names)),
        }

    def wording_features(
        self, wording: WordingProfile, answer: str, answer_kinds: frozenset[InfoKind], customers_named: frozenset[str], cosine: float
    ) -> dict[str, float]:
        """An FAQ seen through one wording: the wording is compared with the question, the answer
        is checked for the kind of information asked (``customers_named``: the customer types the
        wording and the answer name)."""
        subject = wording.analysis.subject
        extra = [w for w in subject if not self._said(w)]
        extra += [a for a in wording.actions if a not in self.weights]
        return {
            "wording_dense": cosine,
            "subject_recall": self._recall(wording.text, (*subject, *wording.actions)),
            "subject_precision": self._precision(len(subject) + len(wording.actions), extra),
            "extra_subject_words": float(min(3, len(extra))),
            "char_overlap": _dice(self.subject_bigrams, wording.subject_bigrams),
            # the same words with the topic moved to the front or back (怎么交电费, 电费怎么交) are the same question
            "wording_overlap": 1.0 if _rotated(self.letters, wording.letters) else _dice(self.letter_bigrams, wording.letter_bigrams),
            "kind_primary_match": float(wording.analysis.kind is self.question.kind),
            "kind_overlap": float(bool(wording.kinds & self.kinds)),
            "kind_evidence": self._kind_evidence(answer_kinds),
            "customer_agreement": self._agreement_with(customers_named),
            "action_agreement": _agreement(self.action_classes, wording.action_classes),
            "answer_chars": math.log1p(len(answer)),
        }

    def passage_features(self, answer: str, section: str = "") -> dict[str, float]:
        """A passage seen through the units it would answer with; its section's heading says whom
        they are about when they do not (四、居民峰谷分时电价: 分别执行不同电价 is about 居民)."""
        text = answer
        clean = text.lower()
        return {
            "wording_dense": MISSING,
            "subject_recall": self._recall(clean),
            "subject_precision": MISSING,
            "extra_subject_words": MISSING,
            "char_overlap": MISSING,
            "wording_overlap": MISSING,
            "kind_primary_match": MISSING,
            "kind_overlap": MISSING,
            "kind_evidence": self._kind_evidence(self.analyser.evidence(text)),
            "customer_agreement": self._customer_agreement(text) or self._customer_agreement(section),
            "action_agreement": MISSING,
            "answer_chars": math.log1p(len(text)),
        }

    def _said(self, word: str) -> bool:
        """Whether the question mentions ``word`` (remembered: the same words come back in many wordings)."""
        said = self.said.get(word)
        if said is None:
            said = self.said[word] = self._mentions(self.text, word)
        return said

    def _mentions(self, text: str, word: str) -> bool:
        if word.startswith(ACTION_PREFIX):
            return any(surface in text for surface in self.analyser.action_surfaces(word.removeprefix(ACTION_PREFIX)))
        return any(surface in text for surface in self.analyser.lower_surfaces(word))

    def _recall(self, text: str, words: Sequence[str] = ()) -> float:
        """IDF-weighted share of the question's subject words that ``text`` (or ``words``) holds; a
        compound it holds only part of counts for that part (优惠政策 in 有什么优惠: half)."""
        total = sum(self.weights.values())
        if not total:
            return MISSING
        held = set(words)
        return sum(weight * (1.0 if word in held else self._coverage(text, word)) for word, weight in self.weights.items()) / total

    def _coverage(self, text: str, word: str) -> float:
        """1 when ``text`` mentions ``word``; for a compound the knowledge base never uses (小企业,
        优惠政策), the share of its characters in its longest part ``text`` holds; else 0."""
        if self._mentions(text, word):
            return 1.0
        if word not in self.unused:
            return 0.0
        return max((len(part) / len(word) for part in self.analyser.parts(word) if part in text), default=0.0)

    def _precision(self, count: int, extra: Sequence[str]) -> float:
        """Share of a wording's ``count`` subject words and actions the question also names."""
        if not count:
            return MISSING
        return 1.0 - len(extra) / count

    def _kind_evidence(self, answer_kinds: frozenset[InfoKind]) -> float:
        if self.question.kind is InfoKind.OTHER:
            return MISSING
        return float(self.question.kind in answer_kinds)

    def _customer_agreement(self, text: str) -> float:
        """1: names the question's customer type; -1: names only other types; 0: no type to compare."""
        return self._agreement_with(self.analyser.customers_in(text))

    def _agreement_with(self, named: frozenset[str]) -> float:
        asked = set(self.question.customers)
        if not asked:
            return 0.0
        return 1.0 if named & asked else (-1.0 if named else 0.0)


ACTION_PREFIX = "动作:"


def _action_word(action: str) -> str:
    """An action class as a word of the subject ("动作:缴费"), matched through the class's words."""
    return ACTION_PREFIX + action


def _agreement(asked: frozenset[str], offered: frozenset[str]) -> float:
    if not asked or not offered:
        return 0.0
    return 1.0 if asked & offered else -1.0


def _rotated(letters: str, other: str) -> bool:
    """``other`` is ``letters`` with a leading part moved to the end: a topic put first or last
    (电费 | 怎么交 ↔ 怎么交 | 电费), which does not change the question, unlike other moves (可以不交吗,
    不可以交吗)."""
    return len(letters) == len(other) > 1 and other in letters + letters


def _letters(text: str) -> str:
    """The words of a text without punctuation or spaces (question marks do not make a question)."""
    return "".join(_WORD_CHAR.findall(text.lower()))


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _dice(a: Iterable[str], b: Iterable[str]) -> float:
    first, second = set(a), set(b)
    if not first or not second:
        return 0.0
    return 2 * len(first & second) / (len(first) + len(second))


def feature_matrix(candidates: Sequence[Candidate]) -> np.ndarray:
    """The candidates' features as rows, in FEATURES order."""
    return np.array([c.features for c in candidates], dtype=np.float64).reshape(len(candidates), len(FEATURES))
