"""A customer's personal data deleted on request, and old conversations deleted after a retention
period.

A request names the customer the way a service centre knows them: a phone number, a chat session id
or a ticket number. Their chat sessions go (messages and feedback with them); their tickets stay for
the statistics (number, category, department, status, dates) with the question, contact, address,
resolution, transcript and the notes in the history replaced by ``ERASED``; an open ticket is closed,
since nobody can call the customer back. The shared query-vector cache is emptied, as it cannot tell
whose questions it holds. Each erasure is audited with its counts, never with the data or the
identifier. The retention run deletes conversations idle longer than the period and blanks finished
tickets the same way once they have been finished that long.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from gridkb.chat.contact import parse_phone
from gridkb.errors import CustomerRecordNotFoundError, InvalidIdentifierError
from gridkb.records import Erasure

ERASED = "已按客户要求删除"
EXPIRED = "已超过保存期限删除"
_TICKET_NUMBER = re.compile(r"^GD[0-9]{8}-[0-9]{6}$")
_SEPARATORS = r"[\s\-.()/]*"  # how people write a number: 138-1234-5678, 138 1234 5678, (0755)12345678
log = logging.getLogger("gridkb.privacy")


class ErasureKind(str, Enum):
    PHONE = "phone"
    SESSION = "session"
    TICKET = "ticket"
    RETENTION = "retention"


@dataclass(frozen=True)
class CustomerIdentifier:
    """Whose data to erase: a phone number (mobile or landline with its area code), a session id or a ticket number."""

    kind: ErasureKind
    value: str

    @classmethod
    def parse(cls, kind: ErasureKind | str, value: str) -> CustomerIdentifier:
        """The identifier in its canonical form; raises InvalidIdentifierError with what is wrong."""
        kind = ErasureKind(kind)
        text = value.strip()
        if kind is ErasureKind.PHONE:
            phone = parse_phone(text)
            if phone is None:
                raise InvalidIdentifierError("电话号码格式不正确：手机号为 1 开头的 11 位数字，座机号请带区号（如 0755-12345678）")
            return cls(kind, re.sub(r"\D", "", phone))
        if kind is ErasureKind.SESSION:
            try:
                return cls(kind, str(uuid.UUID(text)))
            except ValueError:
                raise InvalidIdentifierError("会话编号格式不正确（应为 36 位的 UUID）") from None
        if kind is ErasureKind.TICKET and _TICKET_NUMBER.match(text.upper()):
            return cls(kind, text.upper())
        raise InvalidIdentifierError("工单编号格式不正确（如 GD20261202-000012）" if kind is ErasureKind.TICKET else "只能按电话、会话或工单删除")

    def masked(self) -> str:
        """For the log: enough to tell requests apart, never the number itself."""
        return f"{self.kind.value} …{self.value[-2:]}" if self.kind is ErasureKind.PHONE else self.kind.value


def phone_matcher(digits: str) -> Callable[[str], bool]:
    """Whether a text holds the phone ``digits`` however written: full-width, with spaces, dashes or
    brackets between the digits, with +86 in front; never inside a longer number."""
    body = _SEPARATORS.join(digits)
    pattern = re.compile(rf"(?:(?<![0-9])|(?<=86)){body}(?![0-9])")

    def matches(text: str) -> bool:
        return bool(text) and pattern.search(unicodedata.normalize("NFKC", text)) is not None

    return matches


class PersonalDataStorage(Protocol):
    """What erasure needs of the service database (``storage.personal_data.PersonalDataStore``)."""

    def mentions(self, matches: Callable[[str], bool]) -> tuple[set[str], set[str]]: ...
    def existing_sessions(self, session_ids: set[str]) -> set[str]: ...
    def existing_tickets(self, numbers: set[str]) -> set[str]: ...
    def tickets_of_sessions(self, session_ids: set[str]) -> set[str]: ...
    def sessions_of_tickets(self, numbers: set[str]) -> set[str]: ...
    def sessions_inactive_since(self, cutoff: datetime) -> set[str]: ...
    def finished_tickets_before(self, cutoff: datetime, markers: tuple[str, ...]) -> set[str]: ...
    def erase(self, sessions: set[str], tickets: set[str], marker: str, audit: Erasure, close_open: bool) -> Erasure: ...
    def erasures(self, limit: int = 100) -> list[Erasure]: ...
    def compact(self) -> bool: ...


class ErasureService:
    """Erasure on request and the retention run over one service database.

    ``forget_queries`` empties the query-vector caches and returns how many shared entries it dropped.
    """

    def __init__(self, store: PersonalDataStorage, clock: Callable[[], datetime], forget_queries: Callable[[], int]) -> None:
        self.store = store
        self.clock = clock
        self.forget_queries = forget_queries

    def erase(self, who: CustomerIdentifier, actor: str) -> Erasure:
        """Delete the customer's sessions and blank their tickets; raises CustomerRecordNotFoundError for an
        unknown session or ticket (a phone found nowhere erases nothing and says so in the counts)."""
        sessions, tickets = self._records_of(who)
        dropped = self.forget_queries()
        audit = Erasure(at=self.clock(), actor=actor, kind=who.kind.value, query_cache=dropped)
        stored = self.store.erase(sessions, tickets, ERASED, audit, close_open=True)
        complete = self.store.compact()
        log.info("erasure by %s (%s): %d sessions, %d tickets", actor, who.masked(), stored.sessions, len(stored.tickets))
        return replace(stored, complete=complete)

    def _records_of(self, who: CustomerIdentifier) -> tuple[set[str], set[str]]:
        """(sessions, tickets) of the customer: those named, plus the tickets opened from their sessions
        and the sessions their tickets came from."""
        if who.kind is ErasureKind.PHONE:
            sessions, tickets = self.store.mentions(phone_matcher(who.value))
        elif who.kind is ErasureKind.SESSION:
            sessions, tickets = self.store.existing_sessions({who.value}), self.store.tickets_of_sessions({who.value})
            if not sessions and not tickets:
                raise CustomerRecordNotFoundError(f"没有会话 {who.value}（或已删除）")
        else:
            tickets = self.store.existing_tickets({who.value})
            if not tickets:
                raise CustomerRecordNotFoundError(f"没有编号为 {who.value} 的工单")
            sessions = set()
        sessions |= self.store.sessions_of_tickets(tickets)
        tickets |= self.store.tickets_of_sessions(sessions)
        return sessions, tickets

    def apply_retention(self, days: int, actor: str = "retention") -> Erasure | None:
        """Delete chat sessions idle for more than ``days`` days and blank the personal fields of tickets
        finished more than ``days`` days ago; None when there was nothing to delete or ``days`` is 0 (keep)."""
        if days <= 0:
            return None
        now = self.clock()
        cutoff = now - timedelta(days=days)
        sessions = self.store.sessions_inactive_since(cutoff)
        tickets = self.store.finished_tickets_before(cutoff, (ERASED, EXPIRED))
        if not sessions and not tickets:
            return None
        audit = Erasure(at=now, actor=actor, kind=ErasureKind.RETENTION.value)
        stored = self.store.erase(sessions, tickets, EXPIRED, audit, close_open=False)
        complete = self.store.compact()
        log.info("retention (%d days): %d sessions, %d tickets", days, stored.sessions, len(stored.tickets))
        return replace(stored, complete=complete)

    def log(self, limit: int = 100) -> list[Erasure]:
        """The audit log of erasures and retention runs, newest first."""
        return self.store.erasures(limit)
