"""Question answering with cited sources and an honest confidence, as named stages:

1. guards: empty, gibberish, injected and account-specific questions get the next step, not a guess;
   questions with nothing of the power-supply domain in them are out of scope;
2. context (``context.py``): an elliptical follow-up is rewritten with the conversation, a new
   question stands alone;
3. analyse (``analysis.py``): the question's subject, the kind of information asked, customer type;
4. retrieve (``search.py``): hybrid search over passages and every FAQ wording;
5. rerank (``candidates.py``, ``rerank.py``): a learned model orders the candidates by how likely
   each answers *this* question;
6. a question about another utility's area (``area.py``: 广西的阶梯电价) is declined with the advice
   to ask the local utility, unless the answer found speaks of that place itself;
7. answer, clarify or decline (``compose.py``, ``decide.py``): the answer text is the best FAQ's
   curated answer or the passages' sentences holding what was asked; its confidence is the calibrated
   probability that it is right; below the threshold a vague question gets options to choose from,
   and anything else is declined with the offer of a human.

Text in documents or questions that looks like an instruction is only ever data: nothing here
executes or follows it (the optional LLM gets it inside a quoted context, see ``llm.py``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from gridkb.application.area import Place, ServiceArea, outside_message
from gridkb.application.analysis import InfoKind, QuestionAnalyser, QuestionAnalysis
from gridkb.application.answerability import Evidence, evidence
from gridkb.application.candidates import BROAD_EVIDENCE, Candidate, CandidateFinder
from gridkb.application.compose import Composed, complete_answer, compose_passages, with_alternative, without_verdict
from gridkb.application.context import FollowUpRewriter
from gridkb.application.decide import CLARIFY_REASON, CONFIDENCE_FILE, ConfidenceModel, clarification_options, decision_features
from gridkb.application.guards import AbstainReason, Refusal, check
from gridkb.application.rerank import RERANKER_FILE, RankedCandidate, Reranker
from gridkb.application.search import RetrievalSignals, SearchHit, Searcher
from gridkb.kb import KnowledgeBase
from gridkb.privacy import without_personal_data
from gridkb.records import Audience, Citation

CANDIDATE_HITS = 24  # hits of the hybrid search that become candidates
COMPOSED_PASSAGES = 3  # an answer from passages draws on the best three
# an FAQ answer is followed by the curated answer to another question the customer may have meant,
# when that one ranks within this much of it (reranker score; 1.0–2.0 did equally well on dev)
ALTERNATIVE_MARGIN = 1.5
CLARIFY = "您想咨询的是下面哪个问题？请点选一个，我再为您解答："
CORE_DOMAIN_WORDS = ("供电", "用电", "电费", "电价", "电表", "停电", "来电", "断电", "电线", "电压", "电力", "电网", "度电", "千瓦时", "充电", "漏电", "触电", "95598",
    "变压器", "光伏", "充电桩", "负荷", "跳闸", "装表", "新表", "换表", "验表", "抄表", "电能表")
_ELECTRIC = re.compile(r"电(?!信|影|视|话|脑|梯|竞|商|子邮件)")  # 电 as in electricity, not 电信/电影/电脑


@dataclass(frozen=True)
class Answer:
    answer: str
    confidence: float  # the calibrated probability that ``answer`` is right
    resolved: bool
    category: str
    department: str
    sources: tuple[Citation, ...] = ()
    suggestions: tuple[str, ...] = ()
    reason: str = ""  # "faq" / "extractive" / "llm", "clarify", or why it declined
    options: tuple[str, ...] = ()  # a clarifying question's choices, each a question to ask next

    def to_json(self) -> dict[str, Any]:
        """The public record: exactly the keys the CLI and API promise."""
        return {
            "answer": self.answer,
            "confidence": self.confidence,
            "resolved": self.resolved,
            "category": self.category,
            "department": self.department,
            "sources": [c.public() for c in self.sources],
            "suggestions": list(self.suggestions),
            "options": list(self.options),
        }


@dataclass
class AnswerTrace:
    """Every stage of one answer, for evaluation, fitting and debugging."""

    question: str  # as asked, after the conversation's context
    audience: Audience = Audience.INTERNAL  # who asks: customers need more confidence than staff
    analysis: QuestionAnalysis | None = None
    signals: RetrievalSignals | None = None
    candidates: list[Candidate] = field(default_factory=list)
    ranked: list[RankedCandidate] = field(default_factory=list)
    composed: Composed | None = None
    features: dict[str, float] = field(default_factory=dict)
    answer: Answer | None = None
    asked: tuple[InfoKind, ...] = ()  # what a follow-up asks for itself (资料, 多久到账); () for a question of its own


def _citation(hit: SearchHit) -> Citation:
    return Citation(hit.chunk.title_path[0], hit.chunk.section, hit.snippet, round(hit.score, 4), hit.chunk.source, hit.chunk.id)


class QuestionAnswerer:
    def __init__(
        self,
        kb: KnowledgeBase,
        searcher: Searcher | None = None,
        llm: Any = None,
        domain_gate: bool = True,
        always_answer: bool = False,
        reranker: Reranker | None = None,
        confidence: ConfidenceModel | None = None,
        rerank: bool = True,
    ) -> None:
        """``domain_gate``: refuse questions with nothing of the power-supply domain in them (off for
        knowledge bases of other text, such as the external evaluation sets); ``always_answer``:
        answer with the best candidate whatever the confidence (the external sets have no
        unanswerable questions); ``rerank``: order candidates with the reranker, which is fitted on
        power-supply questions (off for other text: the hybrid order stands); ``reranker`` and
        ``confidence`` replace the fitted models of ``kb/`` (the fitting script passes its own)."""
        self.kb = kb
        self.searcher = searcher or Searcher(kb)
        self.llm = llm
        self.domain_gate = domain_gate
        self.always_answer = always_answer
        self.use_reranker = rerank
        if reranker is not None:
            self.reranker = reranker
        if confidence is not None:
            self.confidence_model = confidence

    @classmethod
    def from_settings(cls, kb: KnowledgeBase) -> "QuestionAnswerer":
        """With the LLM answerer when an endpoint is configured, extractive only otherwise."""
        llm = None
        settings = kb.settings
        if settings.llm_base_url:
            from gridkb.application.llm import LlmAnswerer

            llm = LlmAnswerer(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout)
        return cls(kb, llm=llm)

    @cached_property
    def analyser(self) -> QuestionAnalyser:
        return QuestionAnalyser.load(self.kb.settings.config_dir, self.kb.lexicon)

    @cached_property
    def rewriter(self) -> FollowUpRewriter:
        return FollowUpRewriter(self.analyser, self.kb.lexicon, self.searcher.prepare, self)

    @cached_property
    def finder(self) -> CandidateFinder:
        return CandidateFinder(self.kb, self.searcher, self.analyser)

    @cached_property
    def reranker(self) -> Reranker:
        return Reranker.load(self.kb.settings.config_dir / RERANKER_FILE)

    @cached_property
    def confidence_model(self) -> ConfidenceModel:
        return ConfidenceModel.load(self.kb.settings.config_dir / CONFIDENCE_FILE)

    @cached_property
    def _domain_terms(self) -> list[str]:
        terms = set(self.kb.lexicon.by_surface) | set(CORE_DOMAIN_WORDS)
        for category in self.kb.taxonomy.categories:
            terms.update(category.keywords)
        return sorted((t for t in terms if len(t) >= 2), key=len, reverse=True)

    @cached_property
    def _other_services(self) -> tuple[str, ...]:
        """Topics of other services (``kb/out_of_scope.txt``): water, gas, telecoms, passports…"""
        path = self.kb.settings.config_dir / "out_of_scope.txt"
        if not path.exists():
            return ()
        lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
        return tuple(line for line in lines if line)

    def about_another_service(self, text: str) -> bool:
        """Names another service (water, telecoms…, ``kb/out_of_scope.txt``) and no core power word."""
        return not any(word in text for word in CORE_DOMAIN_WORDS) and any(topic in text for topic in self._other_services)

    def known_word(self, word: str) -> bool:
        """Occurs in some chunk of the knowledge base."""
        return self.kb.document_frequency.get(word.lower(), 0) > 0

    def names_power_supply(self, text: str) -> bool:
        """A term of the power-supply domain (电 as electricity, a dictionary term, a category's
        keyword), in a question that is not about another service."""
        if self.about_another_service(text):
            return False
        return any(word in text for word in CORE_DOMAIN_WORDS) or any(term in text for term in self._domain_terms) or bool(_ELECTRIC.search(text))

    def in_domain(self, text: str) -> bool:
        """A term of the power-supply domain, or only words the knowledge base itself uses; a
        question about another service (water, telecoms…) with no core power word is not."""
        if self.about_another_service(text):
            return False
        if self.names_power_supply(text):
            return True
        content = [t for t in self.kb.lexicon.tokenize(text) if len(t) >= 2]
        known = sum(1 for t in content if t in self.kb.bm25_vocabulary)
        return known >= 2 and known >= 0.6 * len(content)

    @cached_property
    def area(self) -> ServiceArea:
        return ServiceArea.load(self.kb.settings.config_dir)

    def outside_area(self, trace: AnswerTrace) -> list[Place]:
        """The places outside the service area that the question names and its best answer does not
        speak of (none for knowledge bases of other text, where ``domain_gate`` is off)."""
        if not self.domain_gate or trace.analysis is None or not trace.ranked:
            return []
        elsewhere = self.area.outside(trace.analysis.text, self.kb.lexicon.tokenizer.cut)
        if not elsewhere:
            return []
        top = trace.ranked[0].candidate
        said = f"{top.answer}\n{top.hit.chunk.text}"
        return [p for p in elsewhere if not p.mentioned_in(said)]

    def warm_up(self) -> None:
        """Load the indexes and models and analyse every FAQ wording, before the first question."""
        self.finder.warm_up()
        self.searcher.warm_up()
        self.answer("电费怎么交")

    def contextualise(self, question: str, history: Sequence[str]) -> str:
        """``question`` made self-contained with the earlier questions when it is a follow-up (the
        customer's personal numbers left out: what is asked does not depend on them)."""
        return self.rewriter.rewrite(without_personal_data(question), [without_personal_data(turn) for turn in history])

    def answer(
        self, question: str, history: Sequence[str] | None = None, audience: Audience = Audience.INTERNAL, today: date | None = None,
        contextualised: str | None = None,
    ) -> Answer:
        """Answer ``question`` (``history``: the earlier user turns, oldest first, for follow-ups;
        ``contextualised``: ``contextualise(question, history)`` when the caller has it already)."""
        trace = self.trace(question, history, audience, today, contextualised)
        assert trace.answer is not None
        return trace.answer

    def trace(
        self, question: str, history: Sequence[str] | None = None, audience: Audience = Audience.INTERNAL, today: date | None = None,
        contextualised: str | None = None,
    ) -> AnswerTrace:
        """Run every stage and keep what each produced (the arguments as for ``answer``)."""
        trace = AnswerTrace(question)
        if reason := check(question):  # before the numbers go: they tell an account question (户号 …)
            trace.answer = self._refuse(reason)
            return trace
        if contextualised is None:
            contextualised = self.contextualise(question, history or ())
        # a follow-up that asks something of its own (资料, 多久到账) says what is asked; the earlier
        # turns only say what about, and their own ask (时间 of 峰谷几点到几点) is no longer the question
        if contextualised != question:
            trace.asked = self.analyser.analyse(self.searcher.prepare(without_personal_data(question))).kinds
        trace.question = question = without_personal_data(contextualised)
        query = self.searcher.prepare(question)
        if self.domain_gate and not self.in_domain(query):
            trace.answer = self._refuse(AbstainReason.OUT_OF_SCOPE)
            return trace
        self.rank(trace, query, audience, today)
        if not trace.ranked:
            trace.answer = self._refuse(AbstainReason.UNKNOWN)
            return trace
        if elsewhere := self.outside_area(trace):
            trace.answer = Answer(outside_message(elsewhere), 0.0, False, "unknown", "", (), (), AbstainReason.OUTSIDE_AREA.value)
            return trace
        trace.answer = self._decide(trace)
        return trace

    def search(
        self, query: str, k: int = 10, category: str | None = None, audience: Audience = Audience.INTERNAL, today: date | None = None
    ) -> list[SearchHit]:
        """Search results in the reranker's order: the passages and FAQs that best answer ``query`` first."""
        trace = AnswerTrace(query)
        clean = self.searcher.prepare(without_personal_data(query))
        if not clean:
            return []
        self.rank(trace, clean, audience, today, category, hits=max(k, CANDIDATE_HITS))
        return [r.candidate.hit for r in trace.ranked][:k]

    def rank(
        self, trace: AnswerTrace, query: str, audience: Audience = Audience.INTERNAL, today: date | None = None,
        category: str | None = None, hits: int = CANDIDATE_HITS,
    ) -> None:
        """Analyse, retrieve, describe and rerank the candidates of ``query`` into ``trace``."""
        self.gather(trace, query, audience, today, category, hits)
        if not trace.candidates:
            trace.ranked = []
        elif self.use_reranker:
            trace.ranked = self.reranker.run(trace.candidates)
        else:  # the hybrid order, an FAQ through its first wording
            first = {c.hit.chunk.id: c for c in reversed(trace.candidates)}
            trace.ranked = [RankedCandidate(c, -float(rank)) for rank, c in enumerate(reversed(first.values()))]

    def gather(
        self, trace: AnswerTrace, query: str, audience: Audience = Audience.INTERNAL, today: date | None = None,
        category: str | None = None, hits: int = CANDIDATE_HITS,
    ) -> None:
        """Analyse ``query`` (a follow-up's own ask, ``trace.asked``, first), retrieve, and describe
        every candidate (no model needed)."""
        trace.audience = audience
        trace.analysis = analysis = asking(self.analyser.analyse(query), trace.asked)
        extra = self._action_words(analysis)
        trace.signals = self.searcher.retrieve(query, hits, category=category, audience=audience, today=today, extra_terms=extra)
        trace.candidates = self.finder.run(analysis, trace.signals)

    def _action_words(self, analysis: QuestionAnalysis) -> list[str]:
        """The other ways of writing the question's actions (交 → 缴纳, 缴费), for the keyword retrievers."""
        return [surface for surface, action in self.analyser.rules.actions.items() if action in analysis.actions and len(surface) >= 2]

    def assess(self, trace: AnswerTrace) -> None:
        """Compose the answer the ranking leads to and collect the evidence about it (no model needed)."""
        assert trace.analysis is not None and trace.signals is not None and trace.ranked
        trace.composed = self._compose(trace.analysis, trace.signals, trace.ranked)
        trace.features = decision_features(
            trace.ranked, trace.analysis, trace.composed.own, self.analyser, self._evidence(trace.signals, trace.analysis)
        )

    def _decide(self, trace: AnswerTrace) -> Answer:
        self.assess(trace)
        assert trace.signals is not None and trace.composed is not None
        signals, ranked, composed, model = trace.signals, trace.ranked, trace.composed, self.confidence_model
        confidence = model.probability(trace.features)
        top = ranked[0].candidate.hit
        classification = signals.classification or self.kb.classify_question(signals.query)
        category = classification.category if classification.category != "unknown" else top.chunk.category
        department = self.kb.taxonomy.department(category)
        misses = self._misses_follow_up(trace)
        if (confidence < model.threshold_for(trace.audience) or misses) and not self.always_answer:
            # the options for a follow-up that asked for materials are questions whose answers give them
            choices = [r for r in ranked if self.analyser.holds(r.candidate.answer, trace.asked[0])] if misses else ranked
            options = clarification_options(choices, model.clarify_floor)
            if options:
                questions = tuple(o.candidate.question for o in options)
                return Answer(CLARIFY, round(confidence, 3), False, category, department, (), (), CLARIFY_REASON, questions)
            return self._refuse(AbstainReason.UNKNOWN, confidence)
        text, reason, used = composed.text, "faq" if ranked[0].candidate.is_faq else "extractive", composed.used
        if self.llm is not None:
            generated = self.llm.generate(trace.question, [r.candidate.hit for r in ranked[:4]])
            if generated is not None:
                text, reason, used = generated.text, "llm", generated.used or used
        suggestions = self._suggestions(ranked, used)
        return Answer(text, round(confidence, 3), True, category, department, tuple(_citation(h) for h in used), suggestions, reason)

    def _compose(self, analysis: QuestionAnalysis, signals: RetrievalSignals, ranked: Sequence[RankedCandidate]) -> Composed:
        """The best candidate's answer (a curated FAQ answer, or the passage's units that hold what
        was asked), completed from the next candidates for a question of several parts; an FAQ answer
        is followed by a nearly-as-likely FAQ's answer headed by its question (如果您想问的是「…」)."""
        top = ranked[0].candidate
        asked = analysis.kind
        holds_asked = None if asked is InfoKind.OTHER else (lambda unit: self.analyser.holds(unit, asked))
        if not top.is_faq:
            passages = [r.candidate.hit for r in ranked if not r.candidate.is_faq][:COMPOSED_PASSAGES]
            return compose_passages(passages, self.finder.unit_scorer(analysis, signals), holds_asked=holds_asked)
        answer = top.answer if InfoKind.YES_NO in analysis.kinds else without_verdict(top.answer)
        text, used = complete_answer(answer, [top.hit], _distinct_hits(ranked)[1:4], signals.tokens, holds_asked)
        best = ranked[0].score
        alternatives = [
            (r.candidate.question, r.candidate.answer, r.candidate.hit) for r in ranked[1:4]
            if r.candidate.is_faq and r.candidate.answer != top.answer and r.score >= best - ALTERNATIVE_MARGIN
            and (holds_asked is None or holds_asked(r.candidate.answer))
        ]
        main = text
        text, used = with_alternative(text, used, alternatives)
        return Composed(text, tuple(used), main)

    def _misses_follow_up(self, trace: AnswerTrace) -> bool:
        """A follow-up that asks only for a kind of information that an answer shows plainly (资料, 多久,
        在哪: materials, a duration, a place) is not answered by a text without it, however well that
        text matches the earlier turns: it would repeat the last answer or answer another question."""
        asked = trace.asked[0] if trace.asked else InfoKind.OTHER
        if asked is InfoKind.OTHER or asked in BROAD_EVIDENCE:
            return False
        assert trace.composed is not None
        return not self.analyser.holds(trace.composed.text, asked)

    def _evidence(self, signals: RetrievalSignals, analysis: QuestionAnalysis) -> Evidence:
        return evidence(
            signals.best_dense, signals.best_faq_dense, signals.best_bm25, signals.tokens, list(analysis.topic),
            self.kb.document_frequency, len(self.kb.chunks),
        )

    def _suggestions(self, ranked: Sequence[RankedCandidate], used: Sequence[SearchHit]) -> tuple[str, ...]:
        shown = {h.chunk.id for h in used}
        questions = [r.candidate.question for r in ranked if r.candidate.is_faq and r.candidate.hit.chunk.id not in shown]
        return tuple(dict.fromkeys(q for q in questions if q))[:3]

    def _refuse(self, reason: AbstainReason, confidence: float = 0.0) -> Answer:
        refusal = Refusal.of(reason)
        return Answer(refusal.message, round(confidence, 3), False, "unknown", "", (), (), reason.value)


def asking(analysis: QuestionAnalysis, asked: Sequence[InfoKind]) -> QuestionAnalysis:
    """``analysis`` with the kinds in ``asked`` first, unless they are none or only OTHER."""
    own = tuple(kind for kind in asked if kind is not InfoKind.OTHER)
    if not own:
        return analysis
    return dataclasses.replace(analysis, kinds=tuple(dict.fromkeys(own + analysis.kinds)))


def _distinct_hits(ranked: Sequence[RankedCandidate]) -> list[SearchHit]:
    return list({r.candidate.hit.chunk.id: r.candidate.hit for r in ranked}.values())
