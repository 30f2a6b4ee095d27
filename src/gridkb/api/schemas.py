"""Request and response bodies of the HTTP API (they are also its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gridkb.chat.bot import MAX_MESSAGE_CHARS

Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(BaseModel):
    status: str
    documents: int
    chunks: int


class ChatRequest(Strict):
    session_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    message: str = Field(max_length=MAX_MESSAGE_CHARS)


class Source(BaseModel):
    title: str
    section: str
    snippet: str
    score: float


class ChatResponse(BaseModel):
    session_id: str
    message_id: str
    answer: str
    confidence: float
    resolved: bool
    category: str
    department: str
    sources: list[Source]
    suggestions: list[str]
    options: list[str] = Field(default_factory=list, description="a clarifying question's choices: send one back as the next message")
    ticket_id: str | None
    choices: list[str] = Field(default_factory=list, description="buttons of the contact collection after a handoff (需要回电 / 不用了): send one back as the next message")
    input: Literal["phone", "address"] | None = Field(None, description="the input the contact collection asks for: a phone number, or an address or 户号")
    error: str | None = Field(None, description="why the phone number or address just sent was not accepted")


class FeedbackRequest(Strict):
    session_id: str = Id
    message_id: str = Id
    helpful: bool
    rating: int | None = Field(None, ge=1, le=5)
    comment: str | None = Field(None, max_length=1000)


class FeedbackResponse(BaseModel):
    ok: bool
    ticket_id: str | None


class SearchHitOut(BaseModel):
    title: str
    section: str
    title_path: list[str]
    snippet: str
    highlights: list[tuple[int, int]]
    score: float
    category: str
    source: str
    audience: str
    also_in: list[str]
    chunk_id: str
    category_name: str = ""  # display fields: the taxonomy's name, 公开/内部
    audience_label: str = ""


class Recommendations(BaseModel):
    related: list[str]
    popular: list[str]
    category: str


class TicketEventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str
    to_status: str
    detail: dict[str, Any]


class TicketAction(BaseModel):
    """An action the ticket allows now: the PATCH body's ``action`` (and ``status``) with its caption."""

    action: str
    status: str
    label: str


class TimelineEntry(BaseModel):
    """One line of the history for people: who (actor_label), when, what (action_label, summary)."""

    at: datetime
    actor: str
    actor_label: str
    action: str
    action_label: str
    summary: str


class TicketOut(BaseModel):
    number: str
    channel: str
    origin: str
    question: str
    category: str
    department: str
    queue: str
    priority: str
    status: str
    created_at: datetime
    first_response_due: datetime
    due_at: datetime
    breached: bool
    session_id: str | None
    assignee: str
    contact: str = Field(description="the phone the customer left; masked unless you are an admin or the agent it is assigned to")
    address: str = Field("", description="where the outage or danger is (address or 户号), as the customer gave it")
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str
    publish: bool
    publication: str
    transcript: list[dict[str, str]] = []
    events: list[TicketEventOut] = []
    # display fields (Chinese) next to the codes above
    status_label: str = ""
    priority_label: str = ""
    origin_label: str = ""
    queue_label: str = ""
    channel_label: str = ""
    publication_label: str = ""
    category_name: str = ""
    overdue: bool = False  # open and past its due time
    next_actions: list[TicketAction] = []
    timeline: list[TimelineEntry] = []


class TicketCreate(Strict):
    question: str = Field(min_length=1, max_length=4000)
    category: str = Field("unknown", max_length=64)
    contact: str = Field("", max_length=128)
    priority: Literal["urgent", "high", "normal", "low"] | None = None


class TicketPatch(Strict):
    action: Literal["transition", "assign", "route", "resolve", "approve", "reject", "note", "contacted"]
    status: Literal["triaged", "in_progress", "closed", "reopened"] | None = None
    assignee: str | None = Field(None, max_length=64)
    department: str | None = Field(None, max_length=64)
    resolution: str | None = Field(None, max_length=4000)
    publish: bool = False
    note: str = Field("", max_length=4000)


class NoticeIn(Strict):
    kind: Literal["planned_outage", "fault_outage", "tariff", "other"] = "planned_outage"
    title: str = Field(min_length=1, max_length=200)
    areas: list[str] = Field(min_length=1, max_length=50)
    starts_at: datetime
    ends_at: datetime
    cause: str = Field("", max_length=1000)
    restoration: str = Field("", max_length=1000)
    body: str = Field("", max_length=4000)


class NoticeOut(BaseModel):
    id: str
    kind: str
    title: str
    areas: list[str]
    starts_at: datetime
    ends_at: datetime
    cause: str
    restoration: str
    body: str
    created_by: str
    created_at: datetime | None
    expired_at: datetime | None
    active: bool
    kind_label: str = ""


class ConflictDecisionIn(Strict):
    preferred: str = Field(min_length=1, max_length=64, description="chunk id of the statement that holds")
    note: str = Field("", max_length=1000)


class KeyRequest(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Literal["agent", "admin"] = "agent"


class KeyOut(BaseModel):
    id: str
    name: str
    role: str
    key: str


class KeyInfo(BaseModel):
    id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


class JobOut(BaseModel):
    id: str
    status: str
    files: list[str]
    stage: str
    done: int
    total: int
    created_at: datetime
    finished_at: datetime | None
    report: dict[str, Any]
    error: str
    status_label: str = ""
    stage_label: str = ""
