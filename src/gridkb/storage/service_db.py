"""The service database: chat sessions and messages, feedback, tickets with their history, notices,
API keys and rate-limit counters. SQLAlchemy 2 over SQLite (default: a file beside, never inside,
the built knowledge base, so rebuilding it never touches what customers and agents wrote) or
PostgreSQL; the schema is created and upgraded by Alembic (``storage/migrations``).

Everything here is shared by every worker process: nothing of a conversation lives in memory.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, TypeDecorator, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, case, create_engine, delete, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from gridkb.errors import ConcurrentUpdateError, DatabaseError, DurabilityError
from gridkb.moments import in_zone
from gridkb.records import (
    FINISHED_STATUSES,
    ChatMessage,
    ConflictDecision,
    Feedback,
    Notice,
    Priority,
    Publication,
    Queue,
    Ticket,
    TicketEvent,
    TicketOrigin,
    TicketStatus,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FINISHED_VALUES = tuple(sorted(s.value for s in FINISHED_STATUSES))  # as stored in the status column


def utc(value: datetime | None) -> datetime | None:
    """Datetimes leave the store timezone-aware (SQLite gives them back naive)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC on every backend (SQLite would silently drop the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the service database stores aware datetimes only")
        value = in_zone(value, timezone.utc)  # clamped: 0001-01-01 in Beijing is before UTC's calendar
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return utc(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class SessionRow(Base):
    __tablename__ = "chat_sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    last_active_at: Mapped[datetime] = mapped_column(index=True)


class MessageRow(Base):
    __tablename__ = "chat_messages"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    intent: Mapped[str] = mapped_column(String(32), default="")
    question: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(64), default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    resolved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    category: Mapped[str] = mapped_column(String(64), default="")
    department: Mapped[str] = mapped_column(String(64), default="")
    sources: Mapped[list[Any]] = mapped_column(default=list)
    suggestions: Mapped[list[Any]] = mapped_column(default=list)
    ticket_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    step: Mapped[str] = mapped_column(String(32), default="")


class FeedbackRow(Base):
    __tablename__ = "feedback"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("chat_messages.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    helpful: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")


class TicketRow(Base):
    __tablename__ = "tickets"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64), index=True)
    department: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    first_response_due: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    transcript: Mapped[list[Any]] = mapped_column(default=list)
    session_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    assignee: Mapped[str] = mapped_column(String(64), default="")
    contact: Mapped[str] = mapped_column(String(128), default="")
    address: Mapped[str] = mapped_column(String(256), default="")
    first_responded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")
    publish: Mapped[bool] = mapped_column(Boolean, default=False)
    publication: Mapped[str] = mapped_column(String(16), default="")


class TicketEventRow(Base):
    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_number: Mapped[str] = mapped_column(ForeignKey("tickets.number"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(16), default="")
    to_status: Mapped[str] = mapped_column(String(16), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TicketCounterRow(Base):
    __tablename__ = "ticket_counters"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class NoticeRow(Base):
    __tablename__ = "notices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    areas: Mapped[list[Any]] = mapped_column(default=list)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    cause: Mapped[str] = mapped_column(Text, default="")
    restoration: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    expired_at: Mapped[datetime | None] = mapped_column(nullable=True)


KEY_ID_LENGTH = 12  # hex characters of a key's hash that name it in lists and revocations


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    department: Mapped[str] = mapped_column(String(64), default="")  # an agent's: the tickets they may take


class IngestJobRow(Base):
    __tablename__ = "ingest_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    files: Mapped[list[Any]] = mapped_column(default=list)
    stage: Mapped[str] = mapped_column(String(32), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str] = mapped_column(Text, default="")


class ConflictDecisionRow(Base):
    """Append-only: every ruling stays as the audit trail; the first one for a conflict holds."""

    __tablename__ = "conflict_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conflict_id: Mapped[str] = mapped_column(String(32), index=True)
    preferred: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")


class RateCounterRow(Base):
    __tablename__ = "rate_counters"
    bucket: Mapped[str] = mapped_column(String(128), primary_key=True)  # client + window start
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(index=True)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a failed statement's error (and its logged traceback) never carries what a customer wrote
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=FULL")  # a committed ticket survives a power cut
            cursor.execute("PRAGMA secure_delete=ON")  # erased customer data is overwritten, not left in free pages
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")  # several workers wait their turn to write
            cursor.close()

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10, pool_recycle=1800, hide_parameters=True)
    _ping_when_idle(engine, IDLE_PING_SECONDS)
    return engine


IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle for a while: a server restart or
    a firewall's idle cut is caught, but busy connections skip the round trip ``pool_pre_ping`` would
    add to every transaction (13 % of a chat request's time under load, measured)."""

    @event.listens_for(engine, "checkin")
    def _stamp(_: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(connection: Any, record: Any, _: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < idle_seconds:
            return  # fresh, or back from use a moment ago
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        except Exception as error:  # any driver error: the pool replaces the connection and retries
            raise DisconnectionError(str(error)) from error


# setting → accepted values (as SQLite's PRAGMA and PostgreSQL's SHOW print them)
SQLITE_DURABILITY = {"journal_mode": {"wal"}, "synchronous": {"2"}, "secure_delete": {"1"}}  # 2 = FULL
POSTGRES_DURABILITY = {
    "fsync": {"on"},
    "full_page_writes": {"on"},
    "synchronous_commit": {"on", "local", "remote_write", "remote_apply"},  # all but off flush locally
}
DURABILITY_HINTS = {
    "sqlite": "WAL needs a local disk (not a network share or an in-memory database); synchronous and secure_delete are set on every connection",
    "postgresql": "set fsync = on and full_page_writes = on in postgresql.conf, and synchronous_commit to anything but off "
    "(also per role or database: ALTER ROLE/DATABASE … RESET synchronous_commit), then reload the server",
}


def check_durability(engine: Engine) -> None:
    """Read the settings that keep an acknowledged ticket through a crash (SQLite: WAL, synchronous=FULL,
    secure_delete; PostgreSQL: fsync, full_page_writes, synchronous_commit) from a live connection;
    raises DurabilityError naming each one not in force."""
    dialect = engine.dialect.name
    required = SQLITE_DURABILITY if dialect == "sqlite" else POSTGRES_DURABILITY
    command = "PRAGMA" if dialect == "sqlite" else "SHOW"
    try:
        with engine.connect() as connection:
            found = {name: str(connection.exec_driver_sql(f"{command} {name}").scalar()).lower() for name in required}
    except OperationalError as error:
        raise DatabaseError(f"cannot reach the service database {engine.url.render_as_string(hide_password=True)}: {error.orig}") from error
    wrong = [f"{name}={value} (needs {' or '.join(sorted(required[name]))})" for name, value in found.items() if value not in required[name]]
    if wrong:
        raise DurabilityError(
            f"the service database {engine.url.render_as_string(hide_password=True)} would not keep acknowledged "
            f"tickets through a crash: {', '.join(wrong)}. {DURABILITY_HINTS.get(dialect, '')}"
        )


def migrate(url: str) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    try:
        with _migration_lock(url):
            command.upgrade(config, "head")
    except OperationalError as error:
        raise DatabaseError(f"cannot reach the service database {safe_url(url)}: {error.orig}") from error


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """One migrating process at a time (several workers start together)."""
    if url.startswith("sqlite"):
        import fcntl

        path = url.split("///", 1)[-1]
        if not path or path == ":memory:":
            yield
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(f"{path}.migrate.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT pg_advisory_lock(7359881)")
            try:
                yield
            finally:
                connection.exec_driver_sql("SELECT pg_advisory_unlock(7359881)")
    finally:
        engine.dispose()


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


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
        """Append messages to their session in one transaction (a turn: the question and the reply)."""
        stored = []
        with self._transaction() as db:
            for message in messages:
                message_id = message.id or str(uuid.uuid4())
                seq = db.scalar(select(func.count()).select_from(MessageRow).where(MessageRow.session_id == message.session_id)) or 0
                data = message.to_dict() | {"id": message_id, "seq": seq + 1}
                data["sources"], data["suggestions"] = list(message.sources), list(message.suggestions)
                db.add(MessageRow(**data))
                db.flush()
                session = db.get(SessionRow, message.session_id)
                if session is not None:
                    session.last_active_at = message.created_at
                stored.append(_replace(message, id=message_id))
        return stored

    def messages(self, session_id: str) -> list[ChatMessage]:
        with self._transaction() as db:
            rows = db.scalars(select(MessageRow).where(MessageRow.session_id == session_id).order_by(MessageRow.seq)).all()
            return [_message(r) for r in rows]

    def message(self, message_id: str) -> ChatMessage | None:
        with self._transaction() as db:
            row = db.get(MessageRow, message_id)
            return _message(row) if row else None

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
            return [_message(r) for r in db.scalars(query)]

    def add_feedback(self, feedback: Feedback) -> Feedback:
        feedback_id = feedback.id or str(uuid.uuid4())
        with self._transaction() as db:
            db.add(FeedbackRow(**(feedback.to_dict() | {"id": feedback_id})))
        return _replace(feedback, id=feedback_id)

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
            db.add(TicketRow(**_ticket_columns(_replace(ticket, number=number))))
            db.flush()
            db.add(_event_row(number, event))
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
            return _ticket(row, events)

    def update_ticket(self, ticket: Ticket, event: TicketEvent, expected_status: TicketStatus) -> Ticket:
        """Save ``ticket`` and append ``event``, only if nobody changed its status meanwhile."""
        with self._transaction() as db:
            row = db.get(TicketRow, ticket.number, with_for_update=True)
            if row is None:
                raise KeyError(ticket.number)
            if row.status != expected_status.value:
                raise ConcurrentUpdateError(f"工单 {ticket.number} 已被他人更新（当前状态 {row.status}），请刷新后重试")
            for name, value in _ticket_columns(ticket).items():
                setattr(row, name, value)
            db.add(_event_row(ticket.number, event))
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
            return [_ticket(r, ()) for r in rows]

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
        return _replace(notice, id=notice_id)

    def notices(self, active_at: datetime | None = None) -> list[Notice]:
        """All notices newest first, or only those in force at ``active_at``."""
        with self._transaction() as db:
            query = select(NoticeRow).order_by(NoticeRow.starts_at.desc())
            if active_at is not None:
                query = query.where(NoticeRow.starts_at <= active_at, NoticeRow.ends_at >= active_at)
            notices = [_notice(r) for r in db.scalars(query)]
        return [n for n in notices if active_at is None or n.active(active_at)]

    def expire_notice(self, notice_id: str, at: datetime) -> Notice | None:
        with self._transaction() as db:
            row = db.get(NoticeRow, notice_id)
            if row is None:
                return None
            if row.expired_at is None:
                row.expired_at = at
            return _notice(row)

    # --- API keys and rate limits (the HTTP layer's state, shared by every worker)

    def add_api_key(self, key_hash: str, name: str, role: str, now: datetime, department: str = "") -> None:
        with self._transaction() as db:
            db.add(ApiKeyRow(key_hash=key_hash, name=name, role=role, created_at=now, department=department))

    def api_keys(self) -> list[dict[str, Any]]:
        """Every key ever created (never the key itself): id (a prefix of its hash), name, role, department, dates."""
        with self._transaction() as db:
            rows = db.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
            return [
                {"id": r.key_hash[:KEY_ID_LENGTH], "name": r.name, "role": r.role, "department": r.department,
                 "created_at": r.created_at, "revoked_at": r.revoked_at}
                for r in rows
            ]

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

    def add_job(self, job_id: str, files: list[str], created_by: str, now: datetime) -> None:
        with self._transaction() as db:
            db.add(IngestJobRow(id=job_id, status="queued", files=files, created_by=created_by, created_at=now))

    def update_job(self, job_id: str, **fields: Any) -> None:
        with self._transaction() as db:
            row = db.get(IngestJobRow, job_id)
            if row is not None:
                for name, value in fields.items():
                    setattr(row, name, value)

    def job(self, job_id: str) -> dict[str, Any] | None:
        with self._transaction() as db:
            row = db.get(IngestJobRow, job_id)
            if row is None:
                return None
            return {c: getattr(row, c) for c in IngestJobRow.__table__.columns.keys()}

    def hit_rate_counter(self, bucket: str, now: datetime, expires_at: datetime) -> int:
        """Count one request in ``bucket`` (atomic across workers); returns the count so far."""
        with self._transaction() as db:
            statement = self._upsert(RateCounterRow).values(bucket=bucket, count=1, expires_at=expires_at)
            statement = statement.on_conflict_do_update(index_elements=["bucket"], set_={"count": RateCounterRow.count + 1})
            count = int(db.execute(statement.returning(RateCounterRow.count)).scalar_one())
            if count == 1:  # a new window: forget the expired ones
                db.execute(delete(RateCounterRow).where(RateCounterRow.expires_at < now))
            return count


def _replace(record: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(record, **changes)


def _message(row: MessageRow) -> ChatMessage:
    return ChatMessage(
        session_id=row.session_id,
        role=row.role,
        text=row.text,
        created_at=row.created_at,
        id=row.id,
        intent=row.intent,
        question=row.question,
        reason=row.reason,
        confidence=row.confidence,
        resolved=row.resolved,
        category=row.category,
        department=row.department,
        sources=tuple(row.sources or ()),
        suggestions=tuple(row.suggestions or ()),
        ticket_number=row.ticket_number,
        step=row.step,
    )


def _urgency_order() -> tuple[Any, ...]:
    ranks = {p.value: rank for rank, p in enumerate(Priority)}  # urgent, high, normal, low
    return (
        case((TicketRow.status.in_(FINISHED_VALUES), 1), else_=0),
        case(ranks, value=TicketRow.priority, else_=len(ranks)),
        TicketRow.due_at.asc(),
    )


def _ticket_columns(ticket: Ticket) -> dict[str, Any]:
    data = {name: getattr(ticket, name) for name in TicketRow.__table__.columns.keys()}
    for name in ("origin", "queue", "priority", "status", "publication"):
        data[name] = data[name].value
    data["transcript"] = [dict(t) for t in ticket.transcript]
    return data


def _event_row(number: str, event: TicketEvent) -> TicketEventRow:
    return TicketEventRow(
        ticket_number=number, at=event.at, actor=event.actor, action=event.action,
        from_status=event.from_status, to_status=event.to_status, detail=dict(event.detail),
    )


def _ticket(row: TicketRow, events: Sequence[TicketEventRow]) -> Ticket:
    return Ticket(
        channel=row.channel,
        origin=TicketOrigin(row.origin),
        question=row.question,
        category=row.category,
        department=row.department,
        queue=Queue(row.queue),
        priority=Priority(row.priority),
        status=TicketStatus(row.status),
        created_at=row.created_at,
        first_response_due=row.first_response_due,
        due_at=row.due_at,
        number=row.number,
        transcript=tuple(row.transcript or ()),
        session_id=row.session_id,
        assignee=row.assignee,
        contact=row.contact,
        address=row.address,
        first_responded_at=row.first_responded_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        resolution=row.resolution,
        publish=row.publish,
        publication=Publication(row.publication),
        events=tuple(
            TicketEvent(e.at, e.actor, e.action, e.from_status, e.to_status, dict(e.detail or {})) for e in events
        ),
    )


def _notice(row: NoticeRow) -> Notice:
    return Notice(
        kind=row.kind, title=row.title, areas=tuple(row.areas or ()), starts_at=row.starts_at,
        ends_at=row.ends_at, cause=row.cause, restoration=row.restoration, body=row.body,
        created_by=row.created_by, created_at=row.created_at, expired_at=row.expired_at, id=row.id,
    )
