"""Erasure and retention in the service database: finding a customer's rows, deleting their chat
sessions (messages and feedback with them), blanking the personal fields of their tickets, and then
making the deleted bytes unrecoverable from the database files.

SQLite: every connection runs with ``secure_delete`` (freed space is overwritten with zeros, see
``service_db.engine.make_engine``) and the write-ahead log is checkpointed and truncated afterwards, so the
old page images leave the -wal file too. PostgreSQL: the rows are deleted and the tables vacuumed
(dead tuples pruned); WAL segments and base backups keep them until they are recycled or expire.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from gridkb.records import Erasure, TicketStatus
from gridkb.storage.service_db import ServiceStore
from gridkb.storage.service_db.tables import FINISHED_VALUES, Base, FeedbackRow, MessageRow, SessionRow, TicketEventRow, TicketRow

# ticket-event details that describe the work, not the customer: they stay for statistics
KEPT_DETAIL = frozenset({"origin", "department", "queue", "assignee", "publish", "file", "generation"})
SCAN_BATCH = 2000
CHECKPOINT_TRIES = 5
PERSONAL_TABLES = ("chat_messages", "chat_sessions", "feedback", "tickets", "ticket_events", "erasures")
log = logging.getLogger("gridkb.privacy")


class ErasureRow(Base):
    __tablename__ = "erasures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    feedback: Mapped[int] = mapped_column(Integer, default=0)
    tickets: Mapped[list[Any]] = mapped_column(default=list)
    query_cache: Mapped[int] = mapped_column(Integer, default=0)


class PersonalDataStore:
    """Finds and deletes customers' personal data in the service database (``ServiceStore``'s engine)."""

    def __init__(self, store: ServiceStore) -> None:
        self.engine = store.engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # --- finding a customer's records

    def mentions(self, matches: Callable[[str], bool]) -> tuple[set[str], set[str]]:
        """(session ids, ticket numbers) whose stored texts satisfy ``matches``: messages, feedback
        comments, tickets' question, contact, address, resolution and transcript, and event notes."""
        sessions: set[str] = set()
        tickets: set[str] = set()
        with self._transaction() as db:
            for session_id, *texts in self._scan(db, MessageRow.session_id, MessageRow.text, MessageRow.question):
                if session_id not in sessions and any(matches(t) for t in texts):
                    sessions.add(session_id)
            for session_id, comment in self._scan(db, FeedbackRow.session_id, FeedbackRow.comment):
                if matches(comment):
                    sessions.add(session_id)
            columns = (TicketRow.number, TicketRow.question, TicketRow.contact, TicketRow.address, TicketRow.resolution, TicketRow.transcript)
            for number, *texts, transcript in self._scan(db, *columns):
                if any(matches(t) for t in texts) or any(matches(str(t.get("text", ""))) for t in transcript or ()):
                    tickets.add(number)
            for number, detail in self._scan(db, TicketEventRow.ticket_number, TicketEventRow.detail):
                if any(isinstance(v, str) and matches(v) for v in (detail or {}).values()):
                    tickets.add(number)
        return sessions, tickets

    @staticmethod
    def _scan(db: Session, *columns: Any) -> Iterator[Any]:
        """Rows streamed in batches: a service centre keeps millions of messages."""
        yield from db.execute(select(*columns).execution_options(yield_per=SCAN_BATCH))

    def existing_sessions(self, session_ids: Iterable[str]) -> set[str]:
        with self._transaction() as db:
            return set(db.scalars(select(SessionRow.id).where(SessionRow.id.in_(list(session_ids)))))

    def existing_tickets(self, numbers: Iterable[str]) -> set[str]:
        with self._transaction() as db:
            return set(db.scalars(select(TicketRow.number).where(TicketRow.number.in_(list(numbers)))))

    def tickets_of_sessions(self, session_ids: Iterable[str]) -> set[str]:
        with self._transaction() as db:
            return set(db.scalars(select(TicketRow.number).where(TicketRow.session_id.in_(list(session_ids)))))

    def sessions_of_tickets(self, numbers: Iterable[str]) -> set[str]:
        with self._transaction() as db:
            query = select(TicketRow.session_id).where(TicketRow.number.in_(list(numbers)), TicketRow.session_id.is_not(None))
            return set(db.scalars(query))

    def sessions_inactive_since(self, cutoff: datetime) -> set[str]:
        """Chat sessions nobody wrote in since ``cutoff``."""
        with self._transaction() as db:
            return set(db.scalars(select(SessionRow.id).where(SessionRow.last_active_at < cutoff)))

    def finished_tickets_before(self, cutoff: datetime, markers: Iterable[str]) -> set[str]:
        """Resolved or closed tickets finished before ``cutoff`` whose question is not already one of ``markers``."""
        finished_at = func.coalesce(TicketRow.closed_at, TicketRow.resolved_at)
        with self._transaction() as db:
            query = select(TicketRow.number).where(
                TicketRow.status.in_(FINISHED_VALUES), finished_at < cutoff, TicketRow.question.not_in(list(markers))
            )
            return set(db.scalars(query))

    # --- deleting

    def erase(self, sessions: set[str], tickets: set[str], marker: str, audit: Erasure, close_open: bool) -> Erasure:
        """In one transaction: delete ``sessions`` with their messages and feedback, replace the personal
        fields of ``tickets`` with ``marker`` (``close_open``: open ones are closed), record ``audit``
        with the counts. Returns the audit entry as stored."""
        with self._transaction() as db:
            feedback = self._delete(db, FeedbackRow, FeedbackRow.session_id, sessions)
            messages = self._delete(db, MessageRow, MessageRow.session_id, sessions)
            deleted = self._delete(db, SessionRow, SessionRow.id, sessions)
            for number in sorted(tickets):
                self._redact_ticket(db, number, marker, audit, close_open)
            row = ErasureRow(
                at=audit.at, actor=audit.actor, kind=audit.kind, sessions=deleted, messages=messages,
                feedback=feedback, tickets=sorted(tickets), query_cache=audit.query_cache,
            )
            db.add(row)
            db.flush()
            return _erasure(row)

    @staticmethod
    def _delete(db: Session, table: Any, column: Any, keys: set[str]) -> int:
        count = 0
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):  # bounded IN lists
            result = db.execute(delete(table).where(column.in_(ordered[start : start + 500])))
            count += int(result.rowcount or 0)  # type: ignore[attr-defined]
        return count

    @staticmethod
    def _redact_ticket(db: Session, number: str, marker: str, audit: Erasure, close_open: bool) -> None:
        row = db.get(TicketRow, number, with_for_update=True)
        if row is None:
            return
        row.question = marker
        row.contact = marker if row.contact else ""
        row.address = marker if row.address else ""
        row.resolution = marker if row.resolution else ""
        row.transcript, row.session_id = [], None
        for event in db.scalars(select(TicketEventRow).where(TicketEventRow.ticket_number == number)):
            detail = dict(event.detail or {})
            event.detail = {k: (v if k in KEPT_DETAIL or not isinstance(v, str) or not v else marker) for k, v in detail.items()}
        before = row.status
        if close_open and before not in FINISHED_VALUES:
            row.status, row.closed_at = TicketStatus.CLOSED.value, audit.at
        action = "erased" if audit.kind != "retention" else "expired"
        db.add(TicketEventRow(ticket_number=number, at=audit.at, actor=audit.actor, action=action, from_status=before, to_status=row.status, detail={}))

    # --- the audit log

    def erasures(self, limit: int = 100) -> list[Erasure]:
        """The newest erasures first."""
        with self._transaction() as db:
            rows = db.scalars(select(ErasureRow).order_by(ErasureRow.id.desc()).limit(limit))
            return [_erasure(r) for r in rows]

    # --- making deleted bytes unrecoverable

    def compact(self) -> bool:
        """Push the deletions out of the database files: SQLite checkpoints the write-ahead log into the
        database (whose freed space ``secure_delete`` zeroed) and truncates it; PostgreSQL vacuums the
        tables. False when readers kept the log from being truncated (the next checkpoint does it)."""
        if self.engine.dialect.name == "sqlite":
            return self._checkpoint()
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in PERSONAL_TABLES:
                connection.exec_driver_sql(f"VACUUM {table}")
        return True

    def _checkpoint(self) -> bool:
        for attempt in range(CHECKPOINT_TRIES):
            with self.engine.connect() as connection:
                busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if not busy:
                return True
            time.sleep(0.2 * (attempt + 1))  # a reader holds an old snapshot: let it finish
        log.warning("the write-ahead log could not be truncated after an erasure: readers kept it busy")
        return False


def _erasure(row: ErasureRow) -> Erasure:
    return Erasure(
        at=row.at, actor=row.actor, kind=row.kind, sessions=row.sessions, messages=row.messages,
        feedback=row.feedback, tickets=tuple(row.tickets or ()), query_cache=row.query_cache, id=row.id,
    )
