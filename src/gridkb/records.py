"""Typed records that flow between the layers (production → organisation → application → chat → tickets).

Ids are derived from content, so re-ingesting unchanged text reproduces them. Every record converts
to and from plain dicts for persistence (``to_dict`` / ``from_dict``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


def content_id(*parts: str, length: int = 16) -> str:
    """A short, stable id from the given strings (sha1, hex)."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


class Audience(str, Enum):
    PUBLIC = "public"
    INTERNAL = "internal"


class BlockKind(str, Enum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    TABLE_ROW = "table_row"


class ChunkKind(str, Enum):
    TEXT = "text"
    FAQ = "faq"


def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build a dataclass from a dict, turning lists back into tuples where the field wants one."""
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        value = data[f.name]
        if isinstance(value, list) and "tuple" in str(f.type):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        kwargs[f.name] = value
    return cls(**kwargs)


class _Record:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload,no-any-return]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Block(_Record):
    """One structural unit of a parsed document: a heading, a paragraph, a list item or a table row."""

    kind: BlockKind
    text: str
    level: int = 0  # heading level (1 = top); list nesting for list items
    number: str = ""  # clause or heading number as printed: "4.3.3", "一", "（二）", "a)"

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", BlockKind(self.kind))


@dataclass(frozen=True)
class DocumentMeta(_Record):
    """What the corpus says about a document besides its text (front matter or sidecar)."""

    title: str = ""
    audience: Audience = Audience.PUBLIC
    doc_type: str = ""
    issuer: str = ""
    valid_from: str | None = None  # ISO date
    valid_to: str | None = None
    supersedes: str | None = None  # source path of the document this one replaces

    def __post_init__(self) -> None:
        object.__setattr__(self, "audience", Audience(self.audience))
        for name in ("valid_from", "valid_to"):
            value = getattr(self, name)
            if isinstance(value, date):
                object.__setattr__(self, name, value.isoformat())
            elif value is not None:
                date.fromisoformat(str(value))  # raises ValueError on a malformed date

    def is_valid_on(self, day: date) -> bool:
        """False when the document has expired or is not yet in force on ``day``."""
        if self.valid_to and date.fromisoformat(self.valid_to) < day:
            return False
        if self.valid_from and date.fromisoformat(self.valid_from) > day:
            return False
        return True


@dataclass(frozen=True)
class Document(_Record):
    """A source file after loading and normalisation: clean text plus its structure."""

    id: str
    source: str  # key: the ingested folder's name and the path inside it (production.documents.SourceRoot)
    title: str
    format: str  # extension without the dot
    text: str  # normalised text, one block a line
    original_text: str  # extracted text before normalisation
    blocks: tuple[Block, ...]
    meta: DocumentMeta
    content_hash: str  # sha256 of the file's bytes
    faqs: tuple["FaqEntry", ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["meta"]["audience"] = self.meta.audience.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Document":
        return cls(
            id=data["id"],
            source=data["source"],
            title=data["title"],
            format=data["format"],
            text=data["text"],
            original_text=data["original_text"],
            blocks=tuple(Block.from_dict(b) for b in data["blocks"]),
            meta=DocumentMeta.from_dict(data["meta"]),
            content_hash=data["content_hash"],
            faqs=tuple(FaqEntry.from_dict(f) for f in data.get("faqs", ())),
        )

    def __repr__(self) -> str:
        return f"Document(id={self.id!r}, source={self.source!r}, blocks={len(self.blocks)}, faqs={len(self.faqs)})"


@dataclass(frozen=True)
class Section(_Record):
    """A titled part of a document: its title path, clause number and the blocks under it."""

    doc_id: str
    title_path: tuple[str, ...]  # (document title, section, sub-section, clause …)
    number: str
    blocks: tuple[Block, ...]

    @property
    def title(self) -> str:
        return self.title_path[-1] if self.title_path else ""

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks)

    @property
    def list_items(self) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.kind is BlockKind.LIST_ITEM)


@dataclass(frozen=True)
class FaqEntry(_Record):
    """A curated question–answer pair from an FAQ sheet (or, later, a published ticket resolution)."""

    id: str
    question: str
    answer: str
    doc_id: str
    similar: tuple[str, ...] = ()
    category: str = ""
    row: int = 0  # row or position in its sheet, for citations


@dataclass(frozen=True)
class Quantity(_Record):
    """A number with its unit found in a chunk: a time limit, price, energy, distance …"""

    value: str  # as written, normalised to Arabic digits: "5", "0.05", "0–200"
    unit: str  # "个工作日", "元/千瓦时", "分钟" …
    kind: str  # time_limit | price | energy | power | ratio | distance | count | other
    sentence: str
    subject: str = ""  # the nearest dictionary entity in the same sentence, if any

    @property
    def text(self) -> str:
        return f"{self.value}{self.unit}"


@dataclass(frozen=True)
class Chunk(_Record):
    """The unit of retrieval: a piece of one section, never a split sentence."""

    id: str
    doc_id: str
    source: str
    kind: ChunkKind
    title_path: tuple[str, ...]
    text: str
    position: int  # order within the document
    audience: Audience
    valid_from: str | None = None
    valid_to: str | None = None
    faq_id: str | None = None
    entities: tuple[str, ...] = ()  # entity ids mentioned
    quantities: tuple[Quantity, ...] = ()
    category: str = ""  # filled by the organisation layer
    canonical_id: str = ""  # the representative of its duplicate group ("" = itself)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ChunkKind(self.kind))
        object.__setattr__(self, "audience", Audience(self.audience))
        quantities = tuple(Quantity.from_dict(q) if isinstance(q, dict) else q for q in self.quantities)
        object.__setattr__(self, "quantities", quantities)

    @property
    def section(self) -> str:
        """The section path below the document title, for citations."""
        return " › ".join(self.title_path[1:])

    @property
    def faq_question(self) -> str:
        """An FAQ chunk's question ("问：…"); "" for a passage."""
        if self.kind is not ChunkKind.FAQ:
            return ""
        return self.text.split("\n", 1)[0].removeprefix("问：").strip()

    @property
    def answer_text(self) -> str:
        """What the chunk answers with: an FAQ chunk's answer ("答：…"), or a passage's whole text."""
        if self.kind is ChunkKind.FAQ and "答：" in self.text:
            return self.text.split("答：", 1)[1].strip()
        return self.text

    @property
    def index_text(self) -> str:
        """What the indexes see: the title path gives short chunks their context."""
        return " › ".join(self.title_path) + "\n" + self.text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["audience"] = self.audience.value
        return data


@dataclass(frozen=True)
class Term(_Record):
    """A defined term: from a 术语和定义 clause or a "X是指…" sentence."""

    id: str
    name: str
    definition: str
    english: str = ""
    chunk_id: str = ""


@dataclass(frozen=True)
class Entity(_Record):
    """A domain entity: from the curated dictionary, or a keyword/relation argument found in text."""

    id: str
    name: str
    type: str  # business | organisation | channel | product | document_part | concept | keyword …
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relation(_Record):
    """A typed, weighted link between two entities with the chunk that states it."""

    source: str  # entity id
    target: str
    type: str  # 组成 | 包含 | 负责 | 载体 | 适用于 | co_occurs
    weight: float
    chunk_id: str
    evidence: str = ""


@dataclass(frozen=True)
class FileFailure(_Record):
    path: str
    reason: str


@dataclass
class IngestReport(_Record):
    """What one ingest run did; failures are listed with their reasons, not hidden in a log."""

    documents: int = 0
    chunks: int = 0
    faqs: int = 0
    terms: int = 0
    entities: int = 0
    graph_nodes: int = 0
    graph_edges: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # new keys of documents recognised by content under an old key
    unchanged: int = 0
    skipped: list[FileFailure] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    embedded: int = 0  # texts embedded this run (cache misses)
    seconds: dict[str, float] = field(default_factory=dict)  # parse / embed / index / total
    generation: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "IngestReport":
        report = _from_dict(cls, data)
        report.skipped = [FileFailure.from_dict(f) if isinstance(f, dict) else f for f in report.skipped]
        report.failed = [FileFailure.from_dict(f) if isinstance(f, dict) else f for f in report.failed]
        return report


# ---------------------------------------------------------------- organisation
@dataclass(frozen=True)
class Classification(_Record):
    """A category by taxonomy code (or "unknown"), its responsible department and a confidence in [0, 1]."""

    category: str
    department: str
    confidence: float


@dataclass(frozen=True)
class DuplicateGroup(_Record):
    """Near-duplicate chunks or FAQ entries: one canonical item, every source kept as provenance."""

    canonical: str  # chunk id
    members: tuple[str, ...]  # chunk ids, canonical first
    sources: tuple[str, ...]  # document sources of the members
    similarity: float  # the lowest pairwise similarity that joined the group


@dataclass(frozen=True)
class Statement(_Record):
    """One document's version of a fact: the sentence and the numbers it states."""

    chunk_id: str
    source: str
    sentence: str
    values: tuple[str, ...]
    valid_from: str | None = None
    valid_to: str | None = None


@dataclass(frozen=True)
class Conflict(_Record):
    """The corpus states the same fact with different numbers; ``preferred`` says which statement wins and why."""

    subject: str  # what the fact is about (entity name or the sentence pattern)
    statements: tuple[Statement, ...]
    preferred: str  # chunk id of the preferred statement, "" when undecided
    reason: str
    decided_by: str = ""  # the admin who chose ``preferred`` by hand ("" = decided by the documents' dates or links)

    @property
    def id(self) -> str:
        """Stable across rebuilds of an unchanged corpus: the subject and the statements' chunks."""
        return content_id(self.subject, *sorted(s.chunk_id for s in self.statements))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Conflict":
        statements = tuple(Statement.from_dict(s) for s in data["statements"])
        return cls(data["subject"], statements, data["preferred"], data["reason"], data.get("decided_by", ""))


@dataclass(frozen=True)
class ConflictDecision(_Record):
    """An admin's ruling on a conflict the documents do not decide: which statement is right, and why."""

    conflict_id: str
    preferred: str  # chunk id of the statement that holds
    decided_by: str
    decided_at: datetime
    note: str = ""


# --- the service records: chat, tickets, feedback, notices (chat → tickets layers, stored by storage/service_db)


class Role(str, Enum):
    """Who is looking: decides what personal data is shown (see ``gridkb.privacy``)."""

    CUSTOMER = "customer"  # the widget: its own conversation only
    AGENT = "agent"  # service agents: tickets, search; contact details of tickets they handle
    ADMIN = "admin"  # knowledge operators and supervisors
    SYSTEM = "system"  # the bot and batch jobs


class TicketStatus(str, Enum):
    """A ticket's place in its lifecycle; the transitions are ``gridkb.tickets.service.TRANSITIONS``."""

    NEW = "new"
    TRIAGED = "triaged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"

    @property
    def finished(self) -> bool:
        """Resolved or closed: off the working queue (never overdue, no routing), though it may be reopened."""
        return self in FINISHED_STATUSES


# Defined beside the enum rather than the state machine: the storage queries below tickets/ filter on it.
FINISHED_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


class Priority(str, Enum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class TicketOrigin(str, Enum):
    """Why the ticket exists."""

    ABSTAINED = "abstained"  # the bot could not answer from the knowledge base
    HANDOFF = "handoff"  # the customer asked for a human (转人工), or needs their own account looked at
    COMPLAINT = "complaint"
    URGENT = "urgent"  # danger to life or property (触电, 电线断落, 冒烟)
    NEGATIVE_FEEDBACK = "negative_feedback"
    AGENT = "agent"  # opened by an agent


class Queue(str, Enum):
    """Diagnosis: a knowledge gap goes to the knowledge operators, a service problem to the agents."""

    KNOWLEDGE = "knowledge"
    SERVICE = "service"
    URGENT = "urgent"


class Publication(str, Enum):
    NONE = ""
    DRAFT = "draft"  # resolved with "publish": waits for an admin
    PUBLISHED = "published"  # approved and in the knowledge base
    REJECTED = "rejected"


@dataclass(frozen=True)
class Citation(_Record):
    """A passage an answer draws on: shown to customers as title › section with a snippet."""

    title: str
    section: str
    snippet: str
    score: float
    source: str = ""  # the document's path (staff only)
    chunk_id: str = ""

    def public(self) -> dict[str, str | float]:
        """What a customer is shown of it."""
        return {"title": self.title, "section": self.section, "snippet": self.snippet, "score": self.score}


@dataclass(frozen=True)
class ChatMessage(_Record):
    session_id: str
    role: str  # "user" | "bot"
    text: str
    created_at: datetime
    id: str = ""
    intent: str = ""
    question: str = ""  # user turns: the question as retrieval saw it (follow-ups rewritten)
    reason: str = ""  # bot turns: "faq" / "extractive" / "notice" / "greeting"… or why it abstained
    confidence: float = 0.0
    resolved: bool | None = None
    category: str = ""
    department: str = ""
    sources: tuple[Citation, ...] = ()
    suggestions: tuple[str, ...] = ()
    ticket_number: str | None = None
    step: str = ""  # bot turns: what the bot waits for next in the contact collection ("phone,address"), see chat/contact.py


@dataclass(frozen=True)
class TranscriptTurn(_Record):
    """One turn of a conversation as a ticket keeps it."""

    role: str  # "user" | "bot"
    text: str
    at: str  # ISO 8601, as stored and served


def transcript_of(messages: Iterable[ChatMessage]) -> tuple[TranscriptTurn, ...]:
    """A conversation as a ticket keeps it: who spoke, what was said, when."""
    return tuple(TranscriptTurn(m.role, m.text, m.created_at.isoformat()) for m in messages)


@dataclass(frozen=True)
class Feedback(_Record):
    session_id: str
    message_id: str
    created_at: datetime
    helpful: bool | None = None
    rating: int | None = None  # 1–5
    comment: str = ""
    id: str = ""


@dataclass(frozen=True)
class TicketEvent(_Record):
    """One line of a ticket's append-only history (留痕): who did what, when."""

    at: datetime
    actor: str
    action: str  # created, triaged, assigned, transition, routed, resolved, approved, rejected, reopened, note…
    from_status: str = ""
    to_status: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ticket(_Record):
    channel: str
    origin: TicketOrigin
    question: str
    category: str
    department: str
    queue: Queue
    priority: Priority
    status: TicketStatus
    created_at: datetime
    first_response_due: datetime
    due_at: datetime
    number: str = ""  # GD20261124-000123, given by the store
    transcript: tuple[TranscriptTurn, ...] = ()
    session_id: str | None = None
    assignee: str = ""
    contact: str = ""  # phone or name the customer left; masked for roles that need not see it
    address: str = ""  # where the outage or danger is (address or 户号), as the customer gave it
    first_responded_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str = ""
    publish: bool = False
    publication: Publication = Publication.NONE
    events: tuple[TicketEvent, ...] = ()

    def breached(self, now: datetime) -> bool:
        """Past its due time without being resolved (or resolved late)."""
        finished = self.resolved_at or self.closed_at
        return (finished or now) > self.due_at


@dataclass(frozen=True)
class Notice(_Record):
    """A temporary notice: a planned or fault outage in some areas, or a tariff change, for a time."""

    kind: str  # planned_outage | fault_outage | tariff | other
    title: str
    areas: tuple[str, ...]  # street, district, community names as customers say them
    starts_at: datetime
    ends_at: datetime
    cause: str = ""
    restoration: str = ""  # expected restoration, in words ("预计 18:00 恢复送电")
    body: str = ""
    created_by: str = ""
    created_at: datetime | None = None
    expired_at: datetime | None = None  # expired early by an operator
    id: str = ""

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now <= self.ends_at and (self.expired_at is None or self.expired_at > now)


@dataclass(frozen=True)
class Erasure(_Record):
    """One deletion of customers' personal data, as audited: what was deleted, when and by whom,
    never the data itself nor the phone number or session it was found by."""

    at: datetime
    actor: str
    kind: str  # phone | session | ticket (a customer's request) or retention (the periodic run)
    sessions: int = 0  # chat sessions deleted, with their messages and feedback
    messages: int = 0
    feedback: int = 0
    tickets: tuple[str, ...] = ()  # tickets whose personal fields were blanked (numbers, status and dates stay)
    query_cache: int = 0  # query-vector cache entries dropped
    complete: bool = True  # the bytes left the database files too (checkpoint / VACUUM done); reported, not stored
    id: int | None = None


@dataclass(frozen=True)
class ApiKeyInfo(_Record):
    """An agent or admin key of the HTTP API as listed: never the key itself, which is stored only as
    a hash; ``id`` (a prefix of the hash) names it in lists and revocations."""

    id: str
    name: str
    role: Role
    department: str  # an agent's: the tickets they may take
    created_at: datetime
    revoked_at: datetime | None = None


class JobStatus(str, Enum):
    """An upload's ingest job: queued → running → done | failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class IngestJob(_Record):
    """An upload's ingest as the service database records it, with its progress in the current ``stage``."""

    id: str
    status: JobStatus
    files: tuple[str, ...]
    created_by: str
    created_at: datetime
    stage: str = ""
    done: int = 0
    total: int = 0
    finished_at: datetime | None = None
    report: IngestReport | None = None  # once finished, unless the ingest died before reporting
    error: str = ""
