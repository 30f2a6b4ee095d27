"""The chatbot: multi-turn conversations for the customer widget and the terminal.

Each turn: detect the intent; small talk gets a short reply; a danger gets the safety advice
that fits it (``safety.py``); a power-cut report is answered from the matching temporary notice; questions go to the
question answerer with the conversation so far (follow-ups are rewritten before retrieval). What
the bot cannot resolve, a request for a human, a complaint and a danger are escalated through the
``escalate`` callback (the tickets layer opens the ticket and returns its number); the bot then
collects how to reach the customer and where the problem is (``contact.py``), passing them on
through the ``record_contact`` callback. Every turn is stored with what was answered, its sources
and confidence, and the step the conversation waits for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from gridkb.application.guards import AbstainReason
from gridkb.application.qa import Answer, QuestionAnswerer
from gridkb.chat import contact
from gridkb.chat.contact import Kind, Step
from gridkb.chat.intents import Detected, Intent, detect, handoff_only
from gridkb.chat.notices import NoticeBoard
from gridkb.chat.safety import advise
from gridkb.errors import InvalidMessageError, UnknownConversationError
from gridkb.moments import CHINA
from gridkb.privacy import mask_personal_data
from gridkb.records import Audience, ChatMessage, Citation, TicketOrigin, TranscriptTurn, transcript_of
from gridkb.storage.protocols import ServiceStorage

MAX_MESSAGE_CHARS = 1000
HISTORY_TURNS = 6
NOTICE_SECTION = "临时公告"

GREETING = "您好！我是供电服务智能客服，可以为您解答交电费、办电、停电报修、电价等用电问题。请问有什么可以帮您？"
THANKS = "不客气，很高兴能帮到您！还有其他用电问题随时问我。"
CHITCHAT = "我是供电服务智能客服，不是真人，但可以 24 小时为您解答用电问题；需要人工服务时，说“转人工”即可。"
HANDOFF = "好的，正在为您转接人工客服。"
HANDOFF_ONLY = "handoff_only"  # reason of a 转人工 with no question of its own: not a knowledge gap
CONTACT_REASON = "contact"
COMPLAINT = "非常抱歉给您带来不好的体验，您反映的问题我们已经记录，会由专人核实处理。"
OUTAGE_ASK_AREA = "如果是您所在片区停电，请告诉我街道或小区名称，我帮您查询停电公告和预计恢复时间。"


@dataclass(frozen=True)
class Escalation:
    """What the bot hands to the tickets layer."""

    origin: TicketOrigin
    session_id: str
    channel: str
    question: str
    category: str
    department: str
    transcript: tuple[TranscriptTurn, ...]
    reason: str


@dataclass(frozen=True)
class TicketNote:
    number: str
    promise: str  # what the customer is told happens next (from the service levels)
    within: str = ""  # the first-response time in words ("2 小时")
    contact_by: datetime | None = None  # when the customer is contacted at the latest
    contact: str = ""  # the phone on the ticket, masked
    address: str = ""


Escalate = Callable[[Escalation], TicketNote | None]
RecordContact = Callable[[str, str, str], TicketNote]  # (ticket number, phone, address) → the ticket as it now is


@dataclass(frozen=True)
class BotReply:
    session_id: str
    message_id: str
    answer: str
    confidence: float
    resolved: bool
    category: str
    department: str
    sources: tuple[Citation, ...]
    suggestions: tuple[str, ...]
    intent: Intent
    reason: str
    question: str = ""
    ticket_number: str | None = None
    options: tuple[str, ...] = ()  # a clarifying question's choices: the customer picks one as the next message
    choices: tuple[str, ...] = ()  # buttons of the contact collection (需要回电 / 不用了): sent back as the next message
    input: str = ""  # the input the contact collection wants: "phone" | "address" | ""
    error: str = ""  # why the last phone number or address was not accepted

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
            "sources": [s.public() for s in self.sources],
            "suggestions": list(self.suggestions),
            "options": list(self.options),
            "ticket_id": self.ticket_number,
            "choices": list(self.choices),
            "input": self.input or None,
            "error": self.error or None,
        }


@dataclass
class _Draft:
    text: str
    resolved: bool
    reason: str
    confidence: float = 0.0
    category: str = ""
    department: str = ""
    sources: list[Citation] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    escalate: TicketOrigin | None = None
    escalation_reason: str = ""
    escalation_question: str = ""  # the ticket's question when it is not this message's (a bare 转人工)
    steps: tuple[Step, ...] = ()  # the contact collection still to go
    choices: list[str] = field(default_factory=list)
    input: str = ""
    error: str = ""
    ticket_number: str | None = None  # the ticket this turn belongs to (stored on the message)
    show_ticket: bool = False  # tell the customer the number in this turn


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _sources(answer: Answer) -> list[Citation]:
    return list(answer.sources)


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
        record_contact: RecordContact | None = None,
    ) -> BotReply:
        """Answer one customer message in its conversation (a new one when ``session_id`` is None)."""
        if len(message) > MAX_MESSAGE_CHARS:
            raise InvalidMessageError(f"消息过长：最多 {MAX_MESSAGE_CHARS} 个字符，请分几次描述")
        earlier: list[ChatMessage] = []  # a new conversation has nothing to read back
        if session_id is None:
            session_id = self.start(channel)
        elif (stored_channel := self.store.session_channel(session_id)) is None:
            raise UnknownConversationError(f"会话 {session_id} 不存在或已过期，请开始新的会话")
        else:
            channel = stored_channel
            earlier = self.store.messages(session_id)
        if record_contact is not None and (step := self._continue(earlier, message, record_contact)) is not None:
            user = ChatMessage(session_id, "user", mask_personal_data(message), self.clock(), intent=Intent.CONTACT.value)
            return self._store(user, step, Intent.CONTACT, "")
        history = [m.question or m.text for m in earlier if _real_question(m)][-HISTORY_TURNS:]
        last_category = next((m.category for m in reversed(earlier) if m.role == "bot" and m.category), "")
        detected = detect(message)
        answerer = self.answerer()
        question = answerer.contextualise(message, history) if detected.intent not in _SMALL_TALK else message
        user = ChatMessage(session_id, "user", message, self.clock(), intent=detected.intent.value, question=question)
        draft = self._draft(detected, message, question, history, answerer, audience, last_category)
        if draft.reason == HANDOFF_ONLY:
            _take_last_question(draft, earlier)
        if draft.escalate is not None and escalate is not None:
            transcript = transcript_of([*earlier, user])
            ticket = escalate(
                Escalation(
                    draft.escalate, session_id, channel, draft.escalation_question or question,
                    draft.category or last_category or "unknown", draft.department, transcript, draft.escalation_reason,
                )
            )
            if ticket is not None:
                _offer_contact(draft, ticket, detected, record_contact is not None)
        return self._store(user, draft, detected.intent, question)

    def _store(self, user: ChatMessage, draft: _Draft, intent: Intent, question: str) -> BotReply:
        """Store the turn (the customer's message and the reply, one transaction) and shape the reply."""
        bot = ChatMessage(
            user.session_id, "bot", draft.text, self.clock(), intent=intent.value, question=question,
            reason=draft.reason, confidence=draft.confidence, resolved=draft.resolved, category=draft.category,
            department=draft.department, sources=tuple(draft.sources), suggestions=tuple(draft.suggestions),
            ticket_number=draft.ticket_number, step=contact.dump(draft.steps),
        )
        _, bot = self.store.add_messages([user, bot])  # one transaction, one disk flush per turn
        return BotReply(
            user.session_id, bot.id, draft.text, draft.confidence, draft.resolved, draft.category, draft.department,
            tuple(draft.sources), tuple(draft.suggestions), intent, draft.reason, question,
            draft.ticket_number if draft.show_ticket else None, tuple(draft.options), tuple(draft.choices), draft.input, draft.error,
        )

    def _continue(self, earlier: list[ChatMessage], message: str, record: RecordContact) -> _Draft | None:
        """The next step of the contact collection the conversation waits for; None when nothing is
        pending or the message is about something else (it is then answered as a new message)."""
        last = next((m for m in reversed(earlier) if m.role == "bot"), None)
        steps = contact.load(last.step) if last is not None else ()
        if last is None or not steps or not last.ticket_number:
            return None
        reading = contact.read(steps[0], message)
        if reading.kind is Kind.LEFT:
            return None
        draft = _Draft("", True, CONTACT_REASON, 1.0, last.category, last.department, ticket_number=last.ticket_number)
        if reading.kind is Kind.INVALID:
            draft.steps, draft.error = steps, reading.error
            _ask(draft, steps, f"{reading.error}请重新输入，或回复“{contact.prompt(steps[0]).choices[0]}”。")
            return draft
        declined_all = reading.kind is Kind.DECLINED and steps[0] is Step.OFFER
        phone = reading.value if reading.kind is Kind.PHONE else ""
        address = reading.value if reading.kind is Kind.ADDRESS else ""
        note = record(last.ticket_number, phone, address)
        rest = () if declined_all else tuple(s for s in steps[1:] if not (phone and s is Step.PHONE))
        if rest:
            said = f"已记录联系电话 {note.contact}。" if phone else f"已记录地址：{address}。" if address else "好的。"
            _ask(draft, rest, said + contact.prompt(rest[0], urgent=steps[0] is Step.ADDRESS).text)
        else:
            draft.text, draft.show_ticket = _confirmation(note), True
        return draft

    def _draft(
        self, detected: Detected, message: str, question: str, history: list[str], answerer: QuestionAnswerer, audience: Audience,
        last_category: str,
    ) -> _Draft:
        """The reply to ``message`` (``question``: the message made self-contained with ``history``)."""
        intent = detected.intent
        if intent in _SMALL_TALK:
            text = {Intent.GREETING: GREETING, Intent.THANKS: THANKS, Intent.CHITCHAT: CHITCHAT}[intent]
            suggestions = self.popular(last_category or None)[:3] if intent is Intent.GREETING else []
            return _Draft(text, True, intent.value, 1.0, suggestions=suggestions)
        if intent is Intent.HUMAN:
            department = answerer.kb.taxonomy.department(last_category) if last_category else ""
            draft = _Draft(HANDOFF, False, HANDOFF_ONLY if handoff_only(message) else "handoff", category=last_category, department=department)
            draft.escalate, draft.escalation_reason = TicketOrigin.HANDOFF, "客户要求转人工"
            return draft
        if detected.urgent:
            return self._safety(detected, message, answerer)
        if detected.outage and (notice := self._from_notice(message)) is not None:
            notice.department = answerer.kb.taxonomy.department(notice.category)
            return notice
        answer = answerer.answer(message, history=history, audience=audience, contextualised=question)
        draft = _Draft(
            answer.answer, answer.resolved, answer.reason, answer.confidence, answer.category if answer.resolved else "",
            answer.department, _sources(answer), list(answer.suggestions), list(answer.options),
        )
        if not answer.resolved:
            draft.category = answerer.kb.classify_question(answerer.searcher.prepare(message)).category
            draft.category = draft.category if draft.category != "unknown" else last_category
            draft.department = answerer.kb.taxonomy.department(draft.category) if draft.category else ""
        if detected.complaint:
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

    def _safety(self, detected: Detected, message: str, answerer: QuestionAnswerer) -> _Draft:
        """The advice that fits the danger, with its source; a real danger (not "如果…怎么办") opens an urgent ticket."""
        advice = advise(message, answerer)
        confidence = advice.answer.confidence if advice.answer else 1.0
        sources = _sources(advice.answer) if advice.answer else []
        department = answerer.kb.taxonomy.department(advice.category)
        draft = _Draft(advice.text, True, f"safety:{advice.danger.value}", confidence, advice.category, department, sources)
        if not detected.hypothetical:
            draft.escalate, draft.escalation_reason = TicketOrigin.URGENT, "客户报告危险情况"
        return draft

    def _from_notice(self, message: str) -> _Draft | None:
        matches = self.notices.match(message, kinds=("planned_outage", "fault_outage"))
        if not matches:
            return None
        best = matches[0]
        source = Citation(best.notice.title, NOTICE_SECTION, best.answer()[:160], 1.0)
        return _Draft(best.answer(), True, "notice", 1.0, "outage", "", [source])


_SMALL_TALK = (Intent.GREETING, Intent.THANKS, Intent.CHITCHAT)


def _real_question(message: ChatMessage) -> bool:
    """A customer's message that asks something (not an answer to the contact collection, not a bare 转人工)."""
    return message.role == "user" and message.intent not in (Intent.CONTACT.value, *_SMALL_TALK_VALUES) and not handoff_only(message.text)


_SMALL_TALK_VALUES = tuple(i.value for i in _SMALL_TALK)


def _take_last_question(draft: _Draft, earlier: list[ChatMessage]) -> None:
    """A bare 转人工: the ticket takes the conversation's last real question and its category, and says so."""
    for i in range(len(earlier) - 1, -1, -1):
        if _real_question(earlier[i]):
            answered = next((m for m in earlier[i + 1 :] if m.role == "bot"), None)
            draft.escalation_question = earlier[i].question or earlier[i].text
            if answered is not None and answered.category:
                draft.category, draft.department = answered.category, answered.department
            draft.escalation_reason = "客户要求转人工，未另提问题；工单问题取自对话中最近的提问"
            return
    draft.escalation_reason = "客户要求转人工，对话中没有其他提问"


def _offer_contact(draft: _Draft, ticket: TicketNote, detected: Detected, can_record: bool) -> None:
    """Tell the ticket number and start collecting the contact (a danger: where it is, first)."""
    draft.ticket_number, draft.show_ticket = ticket.number, True
    urgent = draft.escalate is TicketOrigin.URGENT
    if not can_record:
        draft.text = f"{draft.text}\n已为您创建工单 {ticket.number}，{ticket.promise}"
        return
    steps = contact.plan(urgent, detected.outage or draft.category == "outage")
    created = f"已为您创建{'紧急' if urgent else ''}工单 {ticket.number}。"
    _ask(draft, steps, f"{draft.text}\n{created}{contact.prompt(steps[0], urgent).text}")


def _ask(draft: _Draft, steps: tuple[Step, ...], text: str) -> None:
    shown = contact.prompt(steps[0])
    draft.text, draft.steps, draft.choices, draft.input = text, steps, list(shown.choices), shown.input


def _confirmation(note: TicketNote) -> str:
    """The end of the contact collection: the ticket number and when to expect contact."""
    if note.contact:
        where = f"，地址：{note.address}" if note.address else ""
        by = f"（{note.contact_by.astimezone(CHINA):%m月%d日 %H:%M} 前）" if note.contact_by else ""
        return f"好的，已记录联系电话 {note.contact}{where}。\n工单 {note.number} 已登记：{note.promise}我们将在 {note.within}内{by}与您联系。"
    if note.address:
        return f"好的，已记录地址：{note.address}。\n工单 {note.number} 已登记：{note.promise}{contact.PROGRESS}"
    return f"好的，不留联系方式也没关系。您的工单号是 {note.number}，{contact.PROGRESS}"
