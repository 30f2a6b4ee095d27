"""Service metrics over a period: conversations, how many the bot resolved on its own (deflection),
transfers to humans, tickets by status, category and department, SLA compliance, time to first
response and to resolution, satisfaction, and the biggest knowledge gaps."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from gridkb.application.decide import CLARIFY_REASON
from gridkb.chat.intents import Intent
from gridkb.moments import CHINA
from gridkb.records import ChatMessage, Ticket, TicketOrigin
from gridkb.storage.protocols import ServiceStorage
from gridkb.tickets.gaps import Gap

_SMALL_TALK = {Intent.GREETING.value, Intent.THANKS.value, Intent.CHITCHAT.value}


@dataclass
class ServiceMetrics:
    since: str | None
    until: str
    conversations: int = 0
    messages: int = 0
    bot_resolution_rate: float = 0.0  # conversations the bot closed without a ticket or a human
    transfer_rate: float = 0.0  # conversations handed to a human (转人工, account questions)
    ticket_rate: float = 0.0  # conversations that opened any ticket
    tickets: int = 0
    tickets_by_status: dict[str, int] = field(default_factory=dict)
    tickets_by_category: dict[str, int] = field(default_factory=dict)
    tickets_by_department: dict[str, int] = field(default_factory=dict)
    tickets_by_origin: dict[str, int] = field(default_factory=dict)
    sla_resolution_compliance: float | None = None  # of tickets due by now or finished
    sla_first_response_compliance: float | None = None
    overdue_open_tickets: int = 0
    median_first_response_minutes: float | None = None
    median_resolution_hours: float | None = None
    feedback: int = 0
    helpful_rate: float | None = None
    mean_rating: float | None = None
    satisfaction_rate: float | None = None  # of judged replies: a rating of 4–5, or 👍 where no rating was given
    top_gaps: list[dict[str, Any]] = field(default_factory=list)
    daily: list[dict[str, Any]] = field(default_factory=list)  # per day: conversations, resolution rate, tickets

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def compute_metrics(
    store: ServiceStorage, now: datetime, since: datetime | None = None, gaps: Sequence[Gap] = (), ticket_limit: int = 100_000
) -> ServiceMetrics:
    messages = store.messages_since(since)
    tickets = store.tickets(since=since, limit=ticket_limit)
    metrics = ServiceMetrics(since.isoformat() if since else None, now.isoformat(), messages=len(messages))
    _conversations(metrics, messages, tickets)
    _tickets(metrics, tickets, now)
    feedback = store.feedback_since(since)
    metrics.feedback = len(feedback)
    rated = [f.helpful for f in feedback if f.helpful is not None]
    ratings = [f.rating for f in feedback if f.rating is not None]
    metrics.helpful_rate = _ratio(sum(rated), len(rated))
    metrics.mean_rating = round(statistics.fmean(ratings), 2) if ratings else None
    judged = [f.rating >= 4 if f.rating is not None else f.helpful for f in feedback if f.rating is not None or f.helpful is not None]
    metrics.satisfaction_rate = _ratio(sum(1 for j in judged if j), len(judged))
    metrics.top_gaps = [{"question": g.question, "count": g.count, "category": g.category, "queue": g.queue.value} for g in gaps[:10]]
    metrics.daily = _daily(messages, tickets)
    return metrics


def _conversations(metrics: ServiceMetrics, messages: Sequence[ChatMessage], tickets: Sequence[Ticket]) -> None:
    by_session: dict[str, list[ChatMessage]] = defaultdict(list)
    for message in messages:
        by_session[message.session_id].append(message)
    ticketed = {t.session_id for t in tickets if t.session_id}
    handed = {t.session_id for t in tickets if t.session_id and t.origin is TicketOrigin.HANDOFF}
    conversations = [s for s, turns in by_session.items() if any(m.role == "user" for m in turns)]
    substantive = [s for s in conversations if any(m.role == "user" and m.intent not in _SMALL_TALK for m in by_session[s])]
    resolved = [
        s for s in substantive
        if s not in ticketed and all(m.resolved is not False for m in by_session[s] if _answers(m))
    ]
    metrics.conversations = len(conversations)
    metrics.bot_resolution_rate = _ratio(len(resolved), len(substantive)) or 0.0
    metrics.transfer_rate = _ratio(len([s for s in conversations if s in handed]), len(conversations)) or 0.0
    metrics.ticket_rate = _ratio(len([s for s in conversations if s in ticketed]), len(conversations)) or 0.0


def _tickets(metrics: ServiceMetrics, tickets: Sequence[Ticket], now: datetime) -> None:
    metrics.tickets = len(tickets)
    metrics.tickets_by_status = dict(Counter(t.status.value for t in tickets))
    metrics.tickets_by_category = dict(Counter(t.category for t in tickets).most_common())
    metrics.tickets_by_department = dict(Counter(t.department for t in tickets).most_common())
    metrics.tickets_by_origin = dict(Counter(t.origin.value for t in tickets).most_common())
    judged = [t for t in tickets if t.resolved_at or t.due_at <= now]
    metrics.sla_resolution_compliance = _ratio(sum(1 for t in judged if t.resolved_at and t.resolved_at <= t.due_at), len(judged))
    responded = [t for t in tickets if t.first_responded_at or t.first_response_due <= now]
    on_time = sum(1 for t in responded if t.first_responded_at and t.first_responded_at <= t.first_response_due)
    metrics.sla_first_response_compliance = _ratio(on_time, len(responded))
    metrics.overdue_open_tickets = sum(1 for t in tickets if not t.status.finished and t.due_at < now)
    first = [(t.first_responded_at - t.created_at).total_seconds() / 60 for t in tickets if t.first_responded_at]
    resolution = [(t.resolved_at - t.created_at).total_seconds() / 3600 for t in tickets if t.resolved_at]
    metrics.median_first_response_minutes = round(statistics.median(first), 1) if first else None
    metrics.median_resolution_hours = round(statistics.median(resolution), 2) if resolution else None


def _daily(messages: Sequence[ChatMessage], tickets: Sequence[Ticket]) -> list[dict[str, Any]]:
    sessions: dict[str, set[str]] = defaultdict(set)
    unresolved: dict[str, set[str]] = defaultdict(set)
    for m in messages:
        day = m.created_at.astimezone(CHINA).date().isoformat()
        sessions[day].add(m.session_id)
        if _answers(m) and m.resolved is False:
            unresolved[day].add(m.session_id)
    opened = Counter(t.created_at.astimezone(CHINA).date().isoformat() for t in tickets)
    days = sorted(set(sessions) | set(opened))
    return [
        {
            "day": day,
            "conversations": len(sessions[day]),
            "bot_resolution_rate": _ratio(len(sessions[day] - unresolved[day]), len(sessions[day])),
            "tickets": opened[day],
        }
        for day in days
    ]


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _answers(message: ChatMessage) -> bool:
    """A bot turn that answers (or fails to): not small talk, and not a clarifying question, which
    neither resolves nor fails a conversation (the customer's choice is answered next)."""
    return message.role == "bot" and message.intent not in _SMALL_TALK and message.reason != CLARIFY_REASON
