"""Question answering with cited sources and an honest confidence.

1. Guards refuse empty, gibberish, injected and account-specific questions with the next step.
2. Out-of-domain questions (no term of the power-supply domain, even after pinyin conversion) are
   refused as out of scope.
3. Hybrid search; when a curated FAQ question matches closely, its answer is the answer.
4. Otherwise an extractive answer: the best sentences of the top passages, with numbers, units and
   lists kept whole (a list is never cut), each part cited, short enough for a chat bubble.
5. The confidence is the answerability model's probability that the knowledge base holds the
   answer (closeness, lexical support, vocabulary coverage; see ``answerability.py``); below its
   threshold the bot abstains instead of guessing.

Text in documents or questions that looks like an instruction is only ever data: nothing here
executes or follows it (the optional LLM gets it inside a quoted context, see ``llm.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from gridkb.application.answerability import AnswerabilityModel, Evidence, evidence
from gridkb.application.guards import AbstainReason, Refusal, check
from gridkb.application.search import RetrievalSignals, SearchHit, Searcher
from gridkb.kb import KnowledgeBase
from gridkb.production.chunking import split_sentences
from gridkb.records import Audience, ChunkKind

MAX_ANSWER_CHARS = 220
FAQ_MATCH = 0.925  # cosine of the question with a curated FAQ question: answer with the FAQ
CORE_DOMAIN_WORDS = ("供电", "用电", "电费", "电价", "电表", "停电", "来电", "断电", "电线", "电压", "电力", "电网", "度电", "千瓦时", "充电", "漏电", "触电", "95598",
    "变压器", "光伏", "充电桩", "负荷", "跳闸", "装表", "新表", "换表", "验表", "抄表", "电能表")
_ELECTRIC = re.compile(r"电(?!信|影|视|话|脑|梯|竞|商|子邮件)")  # 电 as in electricity, not 电信/电影/电脑
# What kind of answer a question asks for, and how an answer shows it gives one: a question for a
# price that the evidence answers without any amount is a question the knowledge base cannot answer.
_ASKS_MONEY = re.compile(r"多少钱|几块钱|几毛钱|多少元|(电价|价格|单价|费用?|钱)(大概|具体|现在|一般)?(是|要|按|收|为)?多少|(收|交|赔|补贴|补|给|退)(了)?多少")
_GIVES_MONEY = re.compile(r"\d+(?:\.\d+)?\s*(?:元|角|分钱|块|万元)|免费|不收|不另收|无需(缴纳|支付|交)|不需要(交|缴|付)|不用(交|缴|付)|不予收取|不收取")
_ASKS_DURATION = re.compile(r"多久|多长时间|几天|几个工作日|几个?小时|几个月|几年|几分钟")
_GIVES_DURATION = re.compile(
    r"[\d一二三四五六七八九十两半百]+\s*(?:个)?(?:工作日|天|日|小时|分钟|个月|月|年|周)|每\s*[\d一二三四五六七八九十两半]*\s*(?:个)?(?:月|天|日|年|季度?|周|小时|分钟)|"
    r"按(?:月|日|年|季)|当天|当日|即时|实时|立即|马上|随时"
)
# follow-ups: how they open, the question part of an earlier question, and terms that contrast
_FOLLOW_UP_OPENERS = ("那", "还有", "另外", "如果", "要是", "换成", "假如")
_QUESTION_TAIL = re.compile(
    r"(需要|要|得|能|可以|可不可以|是否|会|该|应该|一般|大概)?(什么|啥|怎么|咋|怎样|如何|多少|多久|多长|哪|几|吗|呢|么|是不是|要不要|能不能|有没有|会不会|可不可以).*$"
)
CONTRASTS = (
    ("低压居民", "低压非居民", "高压单电源", "高压双电源", "居民", "非居民", "企业", "公司", "工厂", "厂里", "商铺", "商业", "工业",
     "小微企业", "单位", "个人", "高压", "低压", "自然人", "非自然人"),
    ("城区", "城市", "市区", "农村", "乡村", "山区", "偏远地区", "特殊边远地区"),
    ("单电源", "双电源"),
    ("夏天", "夏季", "冬天", "冬季", "平时", "5–10 月", "其他月份"),
    ("投诉", "举报", "意见建议", "建议"),
    ("第一档", "第二档", "第三档", "一档", "二档", "三档"),
    ("高峰", "平段", "低谷", "尖峰"),
)
_LIST_LINE = re.compile(r"^(?:[a-zA-Z][)）]|\d{1,2}[.．、)）]|[（(]\d{1,2}[）)]|[（(][一二三四五六七八九十]+[）)]|[-•·●])")


@dataclass(frozen=True)
class Citation:
    title: str
    section: str
    snippet: str
    score: float
    source: str = ""
    chunk_id: str = ""


@dataclass(frozen=True)
class Answer:
    answer: str
    confidence: float
    resolved: bool
    category: str
    department: str
    sources: tuple[Citation, ...] = ()
    suggestions: tuple[str, ...] = ()
    reason: str = ""  # why it abstained, or "faq" / "extractive" / "llm"

    def to_json(self) -> dict[str, Any]:
        """The public record: exactly the keys the CLI and API promise."""
        return {
            "answer": self.answer,
            "confidence": self.confidence,
            "resolved": self.resolved,
            "category": self.category,
            "department": self.department,
            "sources": [{"title": c.title, "section": c.section, "snippet": c.snippet, "score": c.score} for c in self.sources],
            "suggestions": list(self.suggestions),
        }


@dataclass
class _Composed:
    text: str
    used: list[SearchHit] = field(default_factory=list)


def _citation(hit: SearchHit) -> Citation:
    return Citation(hit.chunk.title_path[0], hit.chunk.section, hit.snippet, round(hit.score, 4), hit.chunk.source, hit.chunk.id)


class QuestionAnswerer:
    def __init__(
        self,
        kb: KnowledgeBase,
        searcher: Searcher | None = None,
        llm: Any = None,
        domain_gate: bool = True,
        abstain_below: float | None = None,
        check_answer_type: bool = True,
    ) -> None:
        """``domain_gate``: refuse questions with nothing of the power-supply domain in them (off for
        knowledge bases of other text, such as the external evaluation sets). ``abstain_below``
        overrides the answerability model's threshold (0 never abstains on weak evidence);
        ``check_answer_type``: abstain when a price or duration is asked and the answer has none."""
        self.kb = kb
        self.searcher = searcher or Searcher(kb)
        self.llm = llm
        self.domain_gate = domain_gate
        self.model = AnswerabilityModel.load(kb.settings.config_dir / "answerability.yaml")
        self.abstain_below = self.model.threshold if abstain_below is None else abstain_below
        self.check_answer_type = check_answer_type

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

    def in_domain(self, text: str) -> bool:
        """A term of the power-supply domain, or only words the knowledge base itself uses; a
        question about another service (water, telecoms…) with no core power word is not."""
        core = any(word in text for word in CORE_DOMAIN_WORDS)
        if not core and any(topic in text for topic in self._other_services):
            return False
        if core or any(term in text for term in self._domain_terms) or _ELECTRIC.search(text):
            return True
        content = [t for t in self.kb.lexicon.tokenize(text) if len(t) >= 2]
        known = sum(1 for t in content if t in self.kb.bm25_vocabulary)
        return known >= 2 and known >= 0.6 * len(content)

    def answer(
        self, question: str, history: Sequence[str] | None = None, audience: Audience = Audience.INTERNAL, today: date | None = None
    ) -> Answer:
        """Answer ``question`` (``history``: the earlier user turns, oldest first, for follow-ups)."""
        if reason := check(question):
            return self._refuse(reason, question)
        question = self.contextualise(question, history or ())
        query = self.searcher.prepare(question)
        if self.domain_gate and not self.in_domain(query):
            return self._refuse(AbstainReason.OUT_OF_SCOPE, question)
        signals = self.searcher.retrieve(question, k=6, audience=audience, today=today)
        classification = signals.classification or self.kb.classify_question(query)
        if not signals.hits:
            return self._refuse(AbstainReason.UNKNOWN, question)
        confidence = self.confidence(signals)
        if confidence < self.abstain_below:
            return self._refuse(AbstainReason.UNKNOWN, question, confidence)
        top = signals.hits[0]
        category = classification.category if classification.category != "unknown" else top.chunk.category
        department = self.kb.taxonomy.department(category)
        suggestions = self._suggestions(signals, exclude=top)
        if top.chunk.kind is ChunkKind.FAQ and top.dense_score >= FAQ_MATCH:
            text, reason, used = _faq_answer(top.chunk.text), "faq", [top]
            text, used = complete_answer(text, used, signals.hits[1:4], signals.tokens)
        else:
            composed = compose_answer(signals.hits[:3], signals.tokens)
            text, reason, used = composed.text, "extractive", composed.used
        if self.check_answer_type and not gives_what_is_asked(question, text):
            return self._refuse(AbstainReason.UNKNOWN, question, confidence)
        if self.llm is not None:
            generated = self.llm.generate(question, signals.hits[:4])
            if generated is not None:
                text, reason, used = generated.text, "llm", generated.used or used
        return Answer(text, round(confidence, 3), True, category, department, tuple(_citation(h) for h in used), suggestions, reason)

    def contextualise(self, question: str, history: Sequence[str]) -> str:
        """Rewrite an elliptical follow-up with the conversation so far (``history``: the earlier
        questions as they were rewritten, oldest first).

        - "那企业呢？" after "居民新装要多久": the contrasting term is swapped ("企业新装要多久");
        - otherwise the entities of the last turn that named any are carried over ("要多久？"
          after "居民新装要什么资料" → "业扩报装要多久？").
        """
        if not history:
            return question
        prepared = self.searcher.prepare(question)
        current = self.kb.lexicon.linked_entities(prepared)
        names_a_topic = bool(current) or any(term in prepared for term in self._domain_terms)
        elliptical = prepared.startswith(_FOLLOW_UP_OPENERS) or (len(prepared) <= 12 and not names_a_topic)
        if not elliptical:
            return question
        previous = history[-1]
        if swapped := _swap_contrast(prepared, previous):
            return swapped
        for earlier in reversed(history):
            entities = self.kb.lexicon.linked_entities(self.searcher.prepare(earlier))
            if entities:
                carried = [self.kb.lexicon.by_id[e].name for e in entities if e not in current]
                business = [n for n in carried if self.kb.lexicon.by_id[f"ent:{n}"].type == "business"] or carried[:1]
                return "".join(business[:2]) + prepared.lstrip("那么还有另外")
        return f"{previous}，{question}"  # no named topic: the previous question is the context

    def evidence(self, signals: RetrievalSignals) -> Evidence:
        nouns = self.kb.lexicon.nouns(signals.query)
        return evidence(
            signals.best_dense, signals.best_faq_dense, signals.best_bm25, signals.tokens, nouns, self.kb.document_frequency, len(self.kb.chunks)
        )

    def confidence(self, signals: RetrievalSignals) -> float:
        """The probability, in [0, 1], that the knowledge base holds the answer to this question."""
        return self.model.probability(self.evidence(signals))

    def _suggestions(self, signals: RetrievalSignals, exclude: SearchHit) -> tuple[str, ...]:
        questions = []
        for hit in signals.hits:
            if hit is exclude or hit.chunk.kind is not ChunkKind.FAQ:
                continue
            questions.append(_faq_question(hit.chunk.text))
        return tuple(dict.fromkeys(q for q in questions if q))[:3]

    def _refuse(self, reason: AbstainReason, question: str, confidence: float = 0.0) -> Answer:
        refusal = Refusal.of(reason)
        return Answer(refusal.message, round(confidence, 3), False, "unknown", "", (), (), reason.value)


def _swap_contrast(follow_up: str, previous: str) -> str | None:
    """"那企业呢？" after "居民新装要多久" → "企业新装要多久": the follow-up's term replaces the one of
    the same contrast group in the previous question."""
    focus = re.sub(r"^(那么|那|还有|另外|如果是|如果|要是|换成|假如是|假如)", "", follow_up)
    focus = re.sub(r"(的话)?(的)?(呢|怎么样|咋样|又如何|如何)?[？?。!！]*$", "", focus).strip("，, ")
    if not focus or _QUESTION_TAIL.search(focus) and not follow_up.rstrip("？?").endswith("呢"):
        return None
    for group in CONTRASTS:
        new = next((term for term in group if term in focus), None)
        if new is None:
            continue
        old = next((term for term in sorted(group, key=len, reverse=True) if term in previous and term not in focus), None)
        if old is not None:
            return previous.replace(old, focus, 1)
    return None


def gives_what_is_asked(question: str, answer: str) -> bool:
    """False when the question asks for an amount of money or a duration and the answer has none."""
    if _ASKS_MONEY.search(question) and not _GIVES_MONEY.search(answer):
        return False
    if _ASKS_DURATION.search(question) and not _GIVES_DURATION.search(answer):
        return False
    return True


def _faq_answer(text: str) -> str:
    return text.split("答：", 1)[1].strip() if "答：" in text else text


def _faq_question(text: str) -> str:
    first = text.split("\n", 1)[0]
    return first.removeprefix("问：").strip()


def _units(text: str) -> list[list[str]]:
    """A chunk's text as units that must stay whole: a sentence, or a list with the line that introduces it.

    A list runs from a line ending in "：" through the following item lines (numbered or not) up to
    the first item that ends with "。".
    """
    lines = [line for line in text.split("\n") if line.strip()]
    units: list[list[str]] = []
    open_list = False
    for line in lines:
        if open_list and (_LIST_LINE.match(line) or (len(line) <= 80 and not units[-1][-1].endswith("。"))):
            units[-1].append(line)  # an item joins its list and the line that announced it
        elif line.endswith("："):
            units.append([line])
            open_list = True
        else:
            units.extend([s] for s in split_sentences(line))
            open_list = False
    return units


def complete_answer(text: str, used: list[SearchHit], others: Sequence[SearchHit], tokens: Sequence[str]) -> tuple[str, list[SearchHit]]:
    """A question with several parts: add the best unit of another passage that covers what the
    answer so far leaves out (at least two of the question's words), within the size limit."""
    missing = [t for t in tokens if len(t) >= 2 and t not in text]
    if len(missing) < 2:
        return text, used
    best: tuple[int, str, SearchHit] | None = None
    for hit in others:
        body = _faq_answer(hit.chunk.text) if hit.chunk.kind is ChunkKind.FAQ else hit.chunk.text
        for unit in _units(body):
            joined = "\n".join(unit)
            covered = sum(1 for t in missing if t in joined)
            if covered >= 2 and len(text) + len(joined) <= MAX_ANSWER_CHARS and (best is None or covered > best[0]):
                best = (covered, joined, hit)
    if best is None:
        return text, used
    return f"{text}\n{best[1]}", [*used, best[2]]


def compose_answer(hits: Sequence[SearchHit], tokens: Sequence[str]) -> _Composed:
    """The best whole sentences or lists of the top passages, in passage order, within the size limit."""
    terms = [t for t in tokens if len(t) >= 2 or t.isdigit()]
    scored: list[tuple[float, int, int, str, SearchHit]] = []
    for rank, hit in enumerate(hits):
        text = _faq_answer(hit.chunk.text) if hit.chunk.kind is ChunkKind.FAQ else hit.chunk.text
        for position, unit in enumerate(_units(text)):
            joined = "\n".join(unit)
            overlap = sum(1 for t in terms if t in joined)
            numbers = 0.5 if re.search(r"\d", joined) else 0.0
            scored.append((overlap + numbers - 0.8 * rank, rank, position, joined, hit))
    if not scored:
        return _Composed("")
    chosen: list[tuple[int, int, str, SearchHit]] = []
    size = 0
    best = max(x[0] for x in scored)
    for score, rank, position, text, hit in sorted(scored, key=lambda x: -x[0]):
        if chosen and (score <= 0 or score < 0.5 * best or size + len(text) > MAX_ANSWER_CHARS):
            continue
        chosen.append((rank, position, text, hit))
        size += len(text)
        if size >= MAX_ANSWER_CHARS * 0.6:
            break
    chosen.sort(key=lambda x: (x[0], x[1]))
    used: list[SearchHit] = []
    for _, _, _, hit in chosen:
        if all(hit.chunk.id != u.chunk.id for u in used):
            used.append(hit)
    return _Composed("\n".join(t for _, _, t, _ in chosen), used)
