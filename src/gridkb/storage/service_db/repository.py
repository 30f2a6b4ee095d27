"""``ServiceStore``: the repository over the service database. Every method is one transaction and
takes and returns gridkb's records (``storage.service_db.mappers`` converts them).

Everything here is shared by every worker process: nothing of a conversation lives in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from gridkb.errors import ConcurrentUpdateError
from gridkb.records import (
    ApiKeyInfo,
    ChatMessage,
    ConflictDecision,
    Feedback,
    IngestJob,
    IngestReport,
    JobStatus,
    Notice,
    Priority,
    Queue,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from gridkb.storage.service_db.engine import check_durability, make_engine, migrate
from gridkb.storage.service_db.mappers import (
    api_key_from_row,
    event_row,
    job_columns,
    job_from_row,
    message_from_row,
    notice_from_row,
    ticket_columns,
    ticket_from_row,
)
from gridkb.storage.service_db.tables import (
    FINISHED_VALUES,
    KEY_ID_LENGTH,
    ApiKeyRow,
    ConflictDecisionRow,
    FeedbackRow,
    IngestJobRow,
    MessageRow,
    NoticeRow,
    RateCounterRow,
    SessionRow,
    TicketCounterRow,
    TicketEventRow,
    TicketRow,
)


class ServiceStore:
    """Repository over the service database; every method is one transaction."""

    def __init__(self, url: str, migrate_schema: bool = True) -> None:
        self.url = url
        if migrate_schema:
            migrate(url)
        self.engine = make_engine(url)
        check_durability(self.engine)  # refuse to take tickets that a crash could lose
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # --- chat

    def create_session(self, channel: str, now: datetime) -> str:
        session_id = str(uuid.uuid4())
        with self._transaction() as db:
            db.add(SessionRow(id=session_id, channel=channel, created_at=now, last_active_at=now))
        return session_id

    def session_channel(self, session_id: str) -> str | None:
        with self._transaction() as db:
            row = db.get(SessionRow, session_id)
            return row.channel if row else None

    def add_message(self, message: ChatMessage) -> ChatMessage:
        return self.add_messages([message])[0]

    def add_messages(self, messages: Sequence[ChatMessage]) -> list[ChatMessage]:
        """Append messages to their session in one transaction (a turn: the question and the reply):
        one count per session, one multi-row insert, one update of each session's last activity."""
        stored = [replace(message, id=message.id or str(uuid.uuid4())) for message in messages]
        with self._transaction() as db:
            seq: dict[str, int] = {}
            rows = []
            for message in stored:
                if message.session_id not in seq:
                    count = select(func.count()).select_from(MessageRow).where(MessageRow.session_id == message.session_id)
                    seq[message.session_id] = db.scalar(count) or 0
                seq[message.session_id] += 1
                data = message.to_dict() | {"seq": seq[message.session_id]}
                data["sources"], data["suggestions"] = list(data["sources"]), list(data["suggestions"])  # JSON columns: lists
                rows.append(data)
            if rows:
                db.execute(insert(MessageRow), rows)
            for session_id, last_active in {m.session_id: m.created_at for m in stored}.items():
                db.execute(update(SessionRow).where(SessionRow.id == session_id).values(last_active_at=last_active))
        return stored

    def messages(self, session_id: str) -> list[ChatMessage]:
        with self._transaction() as db:
            rows = db.scalars(select(MessageRow).where(MessageRow.session_id == session_id).order_by(MessageRow.seq)).all()
            return [message_from_row(r) for r in rows]

    def message(self, message_id: str) -> ChatMessage | None:
        with self._transaction() as db:
            row = db.get(MessageRow, message_id)
            return message_from_row(row) if row else None

    def set_message_ticket(self, message_id: str, number: str) -> None:
        with self._transaction() as db:
            row = db.get(MessageRow, message_id)
            if row is not None:
                row.ticket_number = number

    def messages_since(self, since: datetime | None) -> list[ChatMessage]:
        with self._transaction() as db:
            query = select(MessageRow).order_by(MessageRow.created_at)
            if since is not None:
                query = query.where(MessageRow.created_at >= since)
            return [message_from_row(r) for r in db.scalars(query)]

    def answers_per_chunk(self, since: datetime) -> dict[str, int]:
        first_source = MessageRow.sources[0]["chunk_id"].as_string()
        query = (
            select(first_source, func.count())
            .where(MessageRow.role == "bot", MessageRow.resolved.is_(True), MessageRow.created_at >= since)
            .group_by(first_source)
        )
        with self._transaction() as db:
            return {chunk_id: count for chunk_id, count in db.execute(query) if chunk_id}

    def add_feedback(self, feedback: Feedback) -> Feedback:
        feedback_id = feedback.id or str(uuid.uuid4())
        with self._transaction() as db:
            db.add(FeedbackRow(**(feedback.to_dict() | {"id": feedback_id})))
        return replace(feedback, id=feedback_id)

    def feedback_since(self, since: datetime | None) -> list[Feedback]:
        with self._transaction() as db:
            query = select(FeedbackRow).order_by(FeedbackRow.created_at)
            if since is not None:
                query = query.where(FeedbackRow.created_at >= since)
            return [
                Feedback(r.session_id, r.message_id, r.created_at, r.helpful, r.rating, r.comment, r.id)
                for r in db.scalars(query)
            ]

    # --- tickets

    def insert_ticket(self, ticket: Ticket, event: TicketEvent) -> Ticket:
        """Store a new ticket under the next number of its day (atomic across workers) with its first event."""
        day = ticket.created_at.astimezone(timezone.utc).strftime("%Y%m%d")
        with self._transaction() as db:
            sequence = self._next_number(db, day)
            number = f"GD{day}-{sequence:06d}"
            db.add(TicketRow(**ticket_columns(replace(ticket, number=number))))
            db.flush()
            db.add(event_row(number, event))
        return self.ticket(number)  # type: ignore[return-value]

    def _next_number(self, db: Session, day: str) -> int:
        statement = self._upsert(TicketCounterRow).values(day=day, last=1)
        statement = statement.on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounterRow.last + 1})
        return int(db.execute(statement.returning(TicketCounterRow.last)).scalar_one())

    def _upsert(self, table: Any) -> Any:
        """An INSERT that can turn into an UPDATE on conflict (both backends speak it)."""
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def ticket(self, number: str) -> Ticket | None:
        with self._transaction() as db:
            row = db.get(TicketRow, number)
            if row is None:
                return None
            events = db.scalars(select(TicketEventRow).where(TicketEventRow.ticket_number == number).order_by(TicketEventRow.id)).all()
            return ticket_from_row(row, events)

    def update_ticket(self, ticket: Ticket, event: TicketEvent, expected_status: TicketStatus) -> Ticket:
        """Save ``ticket`` and append ``event``, only if nobody changed its status meanwhile."""
        with self._transaction() as db:
            row = db.get(TicketRow, ticket.number, with_for_update=True)
            if row is None:
                raise KeyError(ticket.number)
            if row.status != expected_status.value:
                raise ConcurrentUpdateError(f"工单 {ticket.number} 已被他人更新（当前状态 {row.status}），请刷新后重试")
            for name, value in ticket_columns(ticket).items():
                setattr(row, name, value)
            db.add(event_row(ticket.number, event))
        return self.ticket(ticket.number)  # type: ignore[return-value]

    def tickets(
        self,
        status: Sequence[TicketStatus] = (),
        department: str | None = None,
        category: str | None = None,
        queue: Queue | None = None,
        overdue_at: datetime | None = None,
        since: datetime | None = None,
        limit: int = 200,
        offset: int = 0,
        urgent_first: bool = False,
    ) -> list[Ticket]:
        """Tickets newest first, or with ``urgent_first`` open ones before finished ones, then by
        priority, then by due time; ``overdue_at``: only those past their due time then and not finished."""
        with self._transaction() as db:
            query = select(TicketRow).order_by(*(_urgency_order() if urgent_first else ()), TicketRow.created_at.desc(), TicketRow.number.desc())
            if status:
                query = query.where(TicketRow.status.in_([s.value for s in status]))
            if department:
                query = query.where(TicketRow.department == department)
            if category:
                query = query.where(TicketRow.category == category)
            if queue:
                query = query.where(TicketRow.queue == queue.value)
            if since is not None:
                query = query.where(TicketRow.created_at >= since)
            if overdue_at is not None:
                query = query.where(TicketRow.due_at < overdue_at, TicketRow.status.not_in(FINISHED_VALUES))
            rows = db.scalars(query.offset(offset).limit(limit)).all()
            return [ticket_from_row(r, ()) for r in rows]

    # --- rulings on knowledge conflicts

    def add_conflict_decision(self, decision: ConflictDecision) -> ConflictDecision:
        with self._transaction() as db:
            db.add(ConflictDecisionRow(**decision.to_dict()))
        return decision

    def conflict_decisions(self) -> dict[str, ConflictDecision]:
        """The ruling in force for each conflict: the first one recorded."""
        with self._transaction() as db:
            rows = db.scalars(select(ConflictDecisionRow).order_by(ConflictDecisionRow.id.desc())).all()
            return {r.conflict_id: ConflictDecision(r.conflict_id, r.preferred, r.decided_by, r.decided_at, r.note) for r in rows}

    # --- notices

    def add_notice(self, notice: Notice) -> Notice:
        notice_id = notice.id or str(uuid.uuid4())
        with self._transaction() as db:
            data = notice.to_dict() | {"id": notice_id, "areas": list(notice.areas)}
            db.add(NoticeRow(**data))
        return replace(notice, id=notice_id)

    def notices(self, active_at: datetime | None = None) -> list[Notice]:
        """All notices newest first, or only those in force at ``active_at``."""
        with self._transaction() as db:
            query = select(NoticeRow).order_by(NoticeRow.starts_at.desc())
            if active_at is not None:
                query = query.where(NoticeRow.starts_at <= active_at, NoticeRow.ends_at >= active_at)
            notices = [notice_from_row(r) for r in db.scalars(query)]
        return [n for n in notices if active_at is None or n.active(active_at)]

    def expire_notice(self, notice_id: str, at: datetime) -> Notice | None:
        with self._transaction() as db:
            row = db.get(NoticeRow, notice_id)
            if row is None:
                return None
            if row.expired_at is None:
                row.expired_at = at
            return notice_from_row(row)

    # --- API keys and rate limits (the HTTP layer's state, shared by every worker)

    def add_api_key(self, key_hash: str, name: str, role: str, now: datetime, department: str = "") -> None:
        with self._transaction() as db:
            db.add(ApiKeyRow(key_hash=key_hash, name=name, role=role, created_at=now, department=department))

    def api_keys(self) -> list[ApiKeyInfo]:
        """Every key ever created (never the key itself), oldest first."""
        with self._transaction() as db:
            return [api_key_from_row(r) for r in db.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]

    def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        """Revoke the key whose hash starts with ``key_id``; False when there is no such live key."""
        if len(key_id) != KEY_ID_LENGTH:
            return False
        with self._transaction() as db:
            row = db.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash.startswith(key_id, autoescape=True))).first()
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = now
            return True

    def api_key(self, key_hash: str) -> tuple[str, str, str] | None:
        """(name, role, department) of a live key."""
        with self._transaction() as db:
            row = db.get(ApiKeyRow, key_hash)
            return (row.name, row.role, row.department) if row and row.revoked_at is None else None

    def add_job(self, job_id: str, files: Sequence[str], created_by: str, now: datetime) -> None:
        with self._transaction() as db:
            db.add(IngestJobRow(id=job_id, status=JobStatus.QUEUED.value, files=list(files), created_by=created_by, created_at=now))

    def update_job(
        self, job_id: str, *, status: JobStatus | None = None, stage: str | None = None, done: int | None = None,
        total: int | None = None, finished_at: datetime | None = None, error: str | None = None, report: IngestReport | None = None,
    ) -> None:
        """Record a job's progress or outcome: the fields given (not None) change, the others stay."""
        columns = job_columns(status, report, stage=stage, done=done, total=total, finished_at=finished_at, error=error)
        with self._transaction() as db:
            row = db.get(IngestJobRow, job_id)
            if row is not None:
                for name, value in columns.items():
                    setattr(row, name, value)

    def job(self, job_id: str) -> IngestJob | None:
        with self._transaction() as db:
            row = db.get(IngestJobRow, job_id)
            return job_from_row(row) if row is not None else None

    def hit_rate_counter(self, bucket: str, now: datetime, expires_at: datetime) -> int:
        """Count one request in ``bucket`` (atomic across workers); returns the count so far."""
        with self._transaction() as db:
            statement = self._upsert(RateCounterRow).values(bucket=bucket, count=1, expires_at=expires_at)
            statement = statement.on_conflict_do_update(index_elements=["bucket"], set_={"count": RateCounterRow.count + 1})
            count = int(db.execute(statement.returning(RateCounterRow.count)).scalar_one())
            if count == 1:  # a new window: forget the expired ones
                db.execute(delete(RateCounterRow).where(RateCounterRow.expires_at < now))
            return count


def _urgency_order() -> tuple[Any, ...]:
    ranks = {p.value: rank for rank, p in enumerate(Priority)}  # urgent, high, normal, low
    return (
        case((TicketRow.status.in_(FINISHED_VALUES), 1), else_=0),
        case(ranks, value=TicketRow.priority, else_=len(ranks)),
        TicketRow.due_at.asc(),
    )
