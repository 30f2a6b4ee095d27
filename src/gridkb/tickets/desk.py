"""The service desk: the closed loop of section 4.4 of the standard (receive → analyse → process)
over one knowledge base and one service database.

- receive: every chat turn is stored; what the bot cannot resolve, requests for a human,
  complaints, dangers and negative feedback open tickets (traceable records);
- analyse: tickets are classified and routed to the responsible department, diagnosed into the
  knowledge or service queue; failed questions are clustered into knowledge gaps;
- process: agents assign, resolve, track and close tickets; resolved answers marked "publish" are
  approved by an admin into the knowledge base, so the bot answers them next time.

It is built from its parts by the composition root (``gridkb.service.GridService``), which the CLI
and the HTTP API talk to; it builds no store and reads no settings itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from gridkb.application.live import LiveKnowledgeBase
from gridkb.application.recommend import Recommendations, Recommender
from gridkb.chat.bot import BotReply, ChatBot, Escalation, TicketNote
from gridkb.chat.notices import NoticeBoard
from gridkb.errors import InvalidMessageError, UnknownConversationError
from gridkb.organisation.conflicts import apply_decisions, check_decision
from gridkb.privacy import mask_personal_data
from gridkb.records import Audience, Conflict, ConflictDecision, Feedback, Ticket, TicketOrigin, transcript_of
from gridkb.storage.protocols import ServiceStorage
from gridkb.tickets.gaps import Gap, mine_gaps
from gridkb.tickets.metrics import ServiceMetrics, compute_metrics
from gridkb.tickets.service import TicketService

MAX_COMMENT_CHARS = 1000
POPULARITY_TTL = 300.0  # seconds between re-counting which FAQs the bot served
POPULARITY_WINDOW = timedelta(days=30)
log = logging.getLogger("gridkb.desk")


class ServiceDesk:
    def __init__(
        self, live: LiveKnowledgeBase, store: ServiceStorage, tickets: TicketService, notices: NoticeBoard,
        clock: Callable[[], datetime],
    ) -> None:
        self.live = live
        self.store = store
        self.tickets = tickets
        self.notices = notices
        self.clock = clock
        self.levels = tickets.levels
        self.taxonomy = tickets.taxonomy
        self.bot = ChatBot(lambda: self.live.current().answerer, store, notices, clock, popular=self.popular_questions)
        self._popularity: tuple[float, Counter[str]] = (0.0, Counter())
        self._popularity_lock = threading.Lock()

    # --- receive

    def chat(self, session_id: str | None, message: str, channel: str = "widget", audience: Audience = Audience.PUBLIC) -> BotReply:
        return self.bot.reply(session_id, message, channel, audience, escalate=self._escalate, record_contact=self._record_contact)

    def _escalate(self, escalation: Escalation) -> TicketNote:
        ticket = self.tickets.open(
            escalation.origin, escalation.question, actor="bot", channel=escalation.channel,
            category=escalation.category if self.taxonomy.get(escalation.category) else "unknown",
            department=escalation.department, transcript=escalation.transcript, session_id=escalation.session_id,
            reason=escalation.reason,
        )
        return self._note(ticket)

    def _record_contact(self, number: str, phone: str, address: str) -> TicketNote:
        """The phone and address a customer left in the chat, on their ticket (shown back masked)."""
        return self._note(self.tickets.add_contact(number, "customer", contact=phone, address=address))

    def _note(self, ticket: Ticket) -> TicketNote:
        level = self.levels[ticket.origin]
        return TicketNote(
            ticket.number, level.promise, level.first_response.describe(), ticket.first_response_due,
            mask_personal_data(ticket.contact), mask_personal_data(ticket.address),
        )

    def feedback(
        self, session_id: str, message_id: str, helpful: bool | None = None, rating: int | None = None, comment: str = ""
    ) -> tuple[Feedback, Ticket | None]:
        """Feedback on a bot reply; negative feedback opens a ticket for the knowledge operators."""
        message = self.store.message(message_id)
        if message is None or message.session_id != session_id or message.role != "bot":
            raise UnknownConversationError("找不到要评价的回复（会话或消息编号不对）")
        if rating is not None and not 1 <= rating <= 5:
            raise InvalidMessageError("满意度评分须为 1–5")
        if helpful is None and rating is None and not comment.strip():
            raise InvalidMessageError("请给出评价：是否有帮助、评分或意见")
        comment = mask_personal_data(comment.strip()[:MAX_COMMENT_CHARS])
        stored = self.store.add_feedback(Feedback(session_id, message_id, self.clock(), helpful, rating, comment))
        negative = helpful is False or (rating is not None and rating <= 2)
        ticket = None
        if negative and not message.ticket_number:
            transcript = transcript_of(self.store.messages(session_id))
            category = message.category if self.taxonomy.get(message.category) else "unknown"
            ticket = self.tickets.open(
                TicketOrigin.NEGATIVE_FEEDBACK, message.question.strip() or f"（对回复的差评）{message.text}", actor="customer", channel="feedback",
                category=category, transcript=transcript, session_id=session_id,
                reason=f"差评：{comment}" if comment else "客户认为回答没有帮助",
            )
            self.store.set_message_ticket(message_id, ticket.number)
        return stored, ticket

    # --- analyse

    def gaps(self, since: datetime | None = None) -> list[Gap]:
        serving = self.live.current()
        return mine_gaps(self.store, serving.kb, since, embed=serving.answerer.searcher.query_vector)

    def metrics(self, since: datetime | None = None, with_gaps: bool = True) -> ServiceMetrics:
        gaps = self.gaps(since) if with_gaps else []
        return compute_metrics(self.store, self.clock(), since, gaps)

    # --- knowledge conflicts the documents do not decide: an admin rules, the ruling is kept

    def conflicts(self) -> list[Conflict]:
        """The knowledge base's conflicts with the admins' rulings applied."""
        return apply_decisions(self.live.current().kb.conflicts, self.store.conflict_decisions())

    def decide_conflict(self, conflict_id: str, preferred: str, actor: str, note: str = "") -> Conflict:
        """Record which statement of an undecided conflict holds (raises ConflictDecisionError)."""
        check_decision(self.conflicts(), conflict_id, preferred)
        decision = ConflictDecision(conflict_id, preferred, actor, self.clock(), note.strip()[:MAX_COMMENT_CHARS])
        self.store.add_conflict_decision(decision)
        log.info("conflict %s decided by %s: chunk %s holds", conflict_id, actor, preferred)
        return next(c for c in self.conflicts() if c.id == conflict_id)

    # --- recommendation fed by the chat logs

    def recommend(self, question: str, k: int = 5, audience: Audience = Audience.PUBLIC) -> Recommendations:
        """Related and popular questions for ``question`` (the API's and the CLI's recommendation)."""
        return self._recommender().recommend(question, k=k, audience=audience)

    def popular_questions(self, category: str | None = None, k: int = 3) -> list[str]:
        """The most served public FAQs of ``category``, as the bot offers them."""
        return [r.question for r in self._recommender().popular_questions(category, k=k, audience=Audience.PUBLIC)]

    def _recommender(self) -> Recommender:
        recommender = self.live.current().recommender
        recommender.popularity = self._served_faqs()
        return recommender

    def _served_faqs(self) -> Counter[str]:
        """How often the bot answered with each chunk (re-counted every few minutes)."""
        counted_at, counts = self._popularity
        if time.monotonic() - counted_at < POPULARITY_TTL:
            return counts
        with self._popularity_lock:
            counts = Counter(self.store.answers_per_chunk(self.clock() - POPULARITY_WINDOW))
            self._popularity = (time.monotonic(), counts)
            return counts
