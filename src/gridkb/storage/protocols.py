"""The storage seams. Each protocol's docstrings state the semantics every backend must keep;
``tests/storage`` runs the same contract tests against every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import numpy as np

from gridkb.records import ChatMessage, ConflictDecision, Feedback, Notice, Queue, Ticket, TicketEvent, TicketStatus


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str  # identifies model and prompt convention; part of every embedding-cache key
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for documents, shape (len(texts), dim)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one search query, shape (dim,). Models with query/passage prompts use the query one."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors for many texts at once, shape (len(texts), dim)."""
        ...


class VectorIndex(Protocol):
    """Dense vectors by id with metadata; ``search`` returns (id, cosine similarity) best first."""

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, str | int | float | bool]]) -> None:
        """Insert or replace vectors; an id already present is overwritten."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove ids; unknown ids are ignored."""
        ...

    def search(self, vector: np.ndarray, k: int, where: dict[str, object] | None = None) -> list[tuple[str, float]]:
        """The ``k`` nearest ids, optionally filtered by a metadata ``where`` clause (Chroma syntax)."""
        ...

    def count(self) -> int:
        ...


class KeywordIndex(Protocol):
    """Lexical (BM25) retrieval over tokenised texts; positions are row numbers of the indexed list."""

    def search(self, tokens: Sequence[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) best first, only rows whose ``mask`` is non-zero, only positive scores."""
        ...


class ServiceStorage(Protocol):
    """Sessions, messages, feedback, tickets, notices, keys and rate counters, shared by every worker
    (``service_db.ServiceStore`` over SQLite or PostgreSQL). Each call is one transaction."""

    def create_session(self, channel: str, now: datetime) -> str: ...
    def session_channel(self, session_id: str) -> str | None: ...
    def add_message(self, message: ChatMessage) -> ChatMessage: ...
    def add_messages(self, messages: Sequence[ChatMessage]) -> list[ChatMessage]: ...
    def messages(self, session_id: str) -> list[ChatMessage]: ...
    def message(self, message_id: str) -> ChatMessage | None: ...
    def set_message_ticket(self, message_id: str, number: str) -> None: ...
    def messages_since(self, since: datetime | None) -> list[ChatMessage]: ...
    def answers_per_chunk(self, since: datetime) -> dict[str, int]:
        """How many resolved bot answers since ``since`` cited each chunk first, counted by the
        database (a month of a busy hotline's messages is never loaded to count them)."""
        ...
    def add_feedback(self, feedback: Feedback) -> Feedback: ...
    def feedback_since(self, since: datetime | None) -> list[Feedback]: ...

    def insert_ticket(self, ticket: Ticket, event: TicketEvent) -> Ticket:
        """Stores a new ticket under the next number of its day, unique across workers."""
        ...

    def ticket(self, number: str) -> Ticket | None: ...

    def update_ticket(self, ticket: Ticket, event: TicketEvent, expected_status: TicketStatus) -> Ticket:
        """Saves the ticket and appends the event, only if its status is still ``expected_status``."""
        ...

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
    ) -> list[Ticket]: ...

    def add_conflict_decision(self, decision: ConflictDecision) -> ConflictDecision:
        """Appends an admin's ruling on a knowledge conflict (kept as the audit trail)."""
        ...

    def conflict_decisions(self) -> dict[str, ConflictDecision]:
        """The ruling in force per conflict id: the first one recorded."""
        ...

    def add_notice(self, notice: Notice) -> Notice: ...
    def notices(self, active_at: datetime | None = None) -> list[Notice]: ...
    def expire_notice(self, notice_id: str, at: datetime) -> Notice | None: ...
