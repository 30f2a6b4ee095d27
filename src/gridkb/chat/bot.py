"""The chatbot: multi-turn conversations for the customer widget and the terminal.

Each turn: detect the intent; small talk gets a short reply; a danger gets safety instructions
first; a power-cut report is answered from the matching temporary notice; questions go to the
question answerer with the conversation so far (follow-ups are rewritten before retrieval). What
the bot cannot resolve, a request for a human, a complaint and a danger are escalated through the
``escalate`` callback (the tickets layer opens the ticket and returns its number). Every turn is
stored with what was answered, its sources and confidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from gridkb.application.guards import AbstainReason
from gridkb.application.qa import Answer, QuestionAnswerer
from gridkb.chat.intents import Detected, Intent, detect
from gridkb.chat.notices import NoticeBoard
from gridkb.errors import GridkbError, NotFound
from gridkb.records import Audience, ChatMessage, TicketOrigin
from gridkb.storage.protocols import ServiceStorage

MAX_MESSAGE_CHARS = 1000
PUBLIC_SOURCE_KEYS = ("title", "section", "snippet", "score")
HISTORY_TURNS = 6
NOTICE_SECTION = "临时公告"

GREETING = "您好！我是供电服务智能客服，可以为您解答交电费、办电、停电报修、电价等用电问题。请问有什么可以帮您？"
THANKS = "不客气，很高兴能帮到您！还有其他用电问题随时问我。"
CHITCHAT = "我是供电服务智能客服，不是真人，但可以 24 小时为您解答用电问题；需要人工服务时，说“转人工”即可。"
HANDOFF = "好的，正在为您转接人工客服。"
SAFETY = (
    "【安全提示】请立即远离危险点至少 8 米，不要靠近或触碰断落的电线、冒烟的设备；"
    "发现有人触电，先切断电源或用干燥的木棍、塑料等绝缘物挑开电线，不可直接用手拉触电者，并立即拨打 120。"
    "请马上拨打 95598 或 110 报告。"
)
COMPLAINT = "非常抱歉给您带来不好的体验，您反映的问题我们已经记录，会由专人核实处理。"
OUTAGE_ASK_AREA = "如果是您所在片区停电，请告诉我街道或小区名称，我帮您查询停电公告和预计恢复时间。"


class InvalidMessage(GridkbError):
    """A chat message or feedback that cannot be processed (too long, out of range)."""


class UnknownConversation(InvalidMessage, NotFound):
    """The session or message referred to does not exist."""


@dataclass(frozen=True)
class Escalation:
    """What the bot hands to the tickets layer."""

    origin: TicketOrigin
    session_id: str
    channel: str
    question: str
    category: str
    department: str
    transcript: tuple[dict[str, str], ...]
    reason: str


@dataclass(frozen=True)
class TicketNote:
    number: str
    promise: str  # what the customer is told happens next (from the service levels)


Escalate = Callable[[Escalation], TicketNote | None]


@dataclass(frozen=True)
class BotReply:
    session_id: str
    message_id: str
    answer: str
    confidence: float
    resolved: bool
    category: str
    department: str
    sources: tuple[dict[str, Any], ...]
    suggestions: tuple[str, ...]
    intent: Intent
    reason: str
    question: str = ""
    ticket_number: str | None = None
    options: tuple[str, ...] = ()  # a clarifying question's choices: the customer picks one as the next message

    def to_json(self) -> dict[str, Any]:
        """The record the API returns."""
        return {
            "session_id": self.session_id,
            "message_id": self.message_id,
            "answer": self.answer,
            "confidence": self.confidence,
            "resolved": self.resolved,
            "category": self.category,
            "department": self.department,
            "sources": [{k: s.get(k) for k in PUBLIC_SOURCE_KEYS} for s in self.sources],
            "suggestions": list(self.suggestions),
            "options": list(self.options),
            "ticket_id": self.ticket_number,
        }


@dataclass
class _Draft:
    text: str
    resolved: bool
    reason: str
    confidence: float = 0.0
    category: str = ""
    department: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    escalate: TicketOrigin | None = None
    escalation_reason: str = ""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _sources(answer: Answer) -> list[dict[str, Any]]:
    return [{"title": c.title, "section": c.section, "snippet": c.snippet, "score": c.score, "chunk_id": c.chunk_id} for c in answer.sources]


class ChatBot:
    def __init__(
        self,
        answerer: Callable[[], QuestionAnswerer],
        store: ServiceStorage,
        notices: NoticeBoard,
        clock: Callable[[], datetime] = _now,
        popular: Callable[[str | None], list[str]] | None = None,
    ) -> None:
        """``answerer``: the current question answerer (a new one after the knowledge base changes);
        ``popular``: popular questions of a category, offered after small talk."""
        self.answerer = answerer
        self.store = store
        self.notices = notices
        self.clock = clock
        self.popular = popular or (lambda category: [])

    def start(self, channel: str) -> str:
        return self.store.create_session(channel, self.clock())

    def reply(
        self,
        session_id: str | None,
        message: str,
        channel: str = "widget",
        audience: Audience = Audience.PUBLIC,
        escalate: Escalate | None = None,
    ) -> BotReply:
        """Answer one customer message in its conversation (a new one when ``session_id`` is None)."""
        if len(message) > MAX_MESSAGE_CHARS:
            raise InvalidMessage(f"消息过长：最多 {MAX_MESSAGE_CHARS} 个字符，请分几次描述")
        if session_id is None:
            session_id = self.start(channel)
        elif (stored_channel := self.store.session_channel(session_id)) is None:
            raise UnknownConversation(f"会话 {session_id} 不存在或已过期，请开始新的会话")
        else:
            channel = stored_channel
        earlier = self.store.messages(session_id)
        history = [m.question or m.text for m in earlier if m.role == "user"][-HISTORY_TURNS:]
        last_category = next((m.category for m in reversed(earlier) if m.role == "bot" and m.category), "")
        detected = detect(message)
        answerer = self.answerer()
        question = answerer.contextualise(message, history) if detected.intent not in _SMALL_TALK else message
        user = ChatMessage(session_id, "user", message, self.clock(), intent=detected.intent.value, question=question)
        draft = self._draft(detected, message, history, answerer, audience, last_category)
        ticket = None
        if draft.escalate is not None and escalate is not None:
            transcript = tuple({"role": m.role, "text": m.text, "at": m.created_at.isoformat()} for m in [*earlier, user])
            ticket = escalate(
                Escalation(
                    draft.escalate, session_id, channel, question, draft.category or last_category or "unknown",
                    draft.department, transcript, draft.escalation_reason,
                )
            )
            if ticket is not None:
                draft.text = f"{draft.text}\n已为您创建工单 {ticket.number}，{ticket.promise}"
        bot = ChatMessage(
            session_id, "bot", draft.text, self.clock(), intent=detected.intent.value, question=question,
            reason=draft.reason, confidence=draft.confidence, resolved=draft.resolved, category=draft.category,
            department=draft.department, sources=tuple(draft.sources), suggestions=tuple(draft.suggestions),
            ticket_number=ticket.number if ticket else None,
        )
        _, bot = self.store.add_messages([user, bot])  # one transaction, one disk flush per turn
        return BotReply(
            session_id, bot.id, draft.text, draft.confidence, draft.resolved, draft.category, draft.department,
            tuple(draft.sources), tuple(draft.suggestions), detected.intent, draft.reason, question,
            ticket.number if ticket else None, tuple(draft.options),
        )

    def _draft(
        self, detected: Detected, message: str, history: list[str], answerer: QuestionAnswerer, audience: Audience, last_category: str
    ) -> _Draft:
        intent = detected.intent
        if intent in _SMALL_TALK:
            text = {Intent.GREETING: GREETING, Intent.THANKS: THANKS, Intent.CHITCHAT: CHITCHAT}[intent]
            suggestions = self.popular(last_category or None)[:3] if intent is Intent.GREETING else []
            return _Draft(text, True, intent.value, 1.0, suggestions=suggestions)
        if intent is Intent.HUMAN:
            department = answerer.kb.taxonomy.department(last_category) if last_category else ""
            draft = _Draft(HANDOFF, False, "handoff", category=last_category, department=department)
            draft.escalate, draft.escalation_reason = TicketOrigin.HANDOFF, "客户要求转人工"
            return draft
        if detected.outage and (notice := self._from_notice(message)) is not None:
            notice.department = answerer.kb.taxonomy.department(notice.category)
            return notice
        answer = answerer.answer(message, history=history, audience=audience)
        draft = _Draft(
            answer.answer, answer.resolved, answer.reason, answer.confidence, answer.category if answer.resolved else "",
            answer.department, _sources(answer), list(answer.suggestions), list(answer.options),
        )
        if not answer.resolved:
            draft.category = answerer.kb.classify_question(answerer.searcher.prepare(message)).category
            draft.category = draft.category if draft.category != "unknown" else last_category
            draft.department = answerer.kb.taxonomy.department(draft.category) if draft.category else ""
        if detected.urgent:
            draft.text = SAFETY if not answer.resolved else f"{SAFETY}\n{answer.answer}"
            draft.resolved, draft.reason = True, f"safety+{answer.reason}"
            if not detected.hypothetical:
                draft.escalate, draft.escalation_reason = TicketOrigin.URGENT, "客户报告危险情况"
        elif detected.complaint:
            draft.escalate, draft.escalation_reason = TicketOrigin.COMPLAINT, "客户投诉"
            if not answer.resolved:
                draft.text, draft.reason = COMPLAINT, "complaint"
        elif detected.outage and not answer.resolved:
            draft.text = OUTAGE_ASK_AREA
            draft.reason = "ask_area"
        elif not answer.resolved and answer.reason == AbstainReason.UNKNOWN.value:
            draft.escalate, draft.escalation_reason = TicketOrigin.ABSTAINED, "知识库无可靠答案"
        elif not answer.resolved and answer.reason == AbstainReason.ACCOUNT.value:
            draft.escalate, draft.escalation_reason = TicketOrigin.HANDOFF, "需要查询客户本人的账户信息"
        if detected.outage and answer.resolved and self.notices.active():
            draft.text = f"{draft.text}\n{OUTAGE_ASK_AREA}"
        return draft

    def _from_notice(self, message: str) -> _Draft | None:
        matches = self.notices.match(message, kinds=("planned_outage", "fault_outage"))
        if not matches:
            return None
        best = matches[0]
        source = {"title": best.notice.title, "section": NOTICE_SECTION, "snippet": best.answer()[:160], "score": 1.0}
        return _Draft(best.answer(), True, "notice", 1.0, "outage", "", [source])


_SMALL_TALK = (Intent.GREETING, Intent.THANKS, Intent.CHITCHAT)
