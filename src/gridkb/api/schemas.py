"""Request and response bodies of the HTTP API (they are also its OpenAPI schema)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from gridkb.chat.bot import MAX_MESSAGE_CHARS
from gridkb.moments import assume_china
from gridkb.production.normalize import clean_text

Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
# at least one character a person can see: the schema's word for "not blank" (JSON Schema and pydantic read it alike)
VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f\ufeff]"
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_moment(value: object) -> object:
    """Only ISO 8601 date-times: pydantic would also read 0.5 as seconds after 1970."""
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_MOMENT.match(value)):
        return value
    raise ValueError("须为 ISO 8601 日期时间，如 2026-07-01T08:00:00+08:00（不带时区为北京时间）")


def text(max_length: int, required: bool = False) -> Any:
    """A free-text field of at most ``max_length`` characters; ``required``: not blank. The limits apply
    to the text as sent (as the schema says), then ``clean_text`` drops NUL and other controls."""
    if required:
        return Annotated[str, Field(min_length=1, max_length=max_length, pattern=VISIBLE), AfterValidator(clean_text)]
    return Annotated[str, Field(max_length=max_length), AfterValidator(clean_text)]


# a date-time as ISO 8601; without an offset it is Beijing time
Moment = Annotated[datetime, BeforeValidator(_iso_moment), AfterValidator(assume_china)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where: body, query, path or header, then the field")
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error response: ``detail`` says what went wrong, for a person; a request refused by
    validation also lists each field in ``errors``."""

    detail: str
    errors: list[FieldError] = []


class Health(BaseModel):
    status: str
    documents: int
    chunks: int


class ChatRequest(Strict):
    session_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    message: text(MAX_MESSAGE_CHARS)  # type: ignore[valid-type]


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
    comment: text(1000) | None = None  # type: ignore[valid-type]


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


class TicketStatusOut(BaseModel):
    code: str
    label: str
    finished: bool = Field(description="resolved or closed: no longer in the queue's open work")
    next: list[str] = Field(description="the statuses a ticket in this one may move to")


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
    question: text(4000, required=True)  # type: ignore[valid-type]
    category: str = Field("unknown", max_length=64)
    contact: text(128) = ""  # type: ignore[valid-type]
    priority: Literal["urgent", "high", "normal", "low"] | None = None


def ticket_create_for(categories: Sequence[str]) -> type[TicketCreate]:
    """``TicketCreate`` whose category is one of the taxonomy's codes, so the OpenAPI document lists them."""
    codes = tuple(dict.fromkeys(["unknown", *categories]))
    return create_model("TicketCreate", __base__=TicketCreate, category=(Literal[codes], "unknown"))  # type: ignore[call-overload,valid-type]


# PATCH /api/tickets/{number}: one body per action, each with the fields that action needs
class _TicketAction(Strict):
    note: text(4000) = ""  # type: ignore[valid-type]


class TransitionAction(_TicketAction):
    action: Literal["transition"]
    status: Literal["triaged", "in_progress", "closed", "reopened"]


class AssignAction(_TicketAction):
    action: Literal["assign"]
    assignee: text(64, required=True)  # type: ignore[valid-type]


class RouteAction(_TicketAction):
    action: Literal["route"]
    department: text(64, required=True)  # type: ignore[valid-type]


class ResolveAction(_TicketAction):
    action: Literal["resolve"]
    resolution: text(4000, required=True)  # type: ignore[valid-type]
    publish: bool = False


class NoteAction(_TicketAction):
    action: Literal["note"]
    note: text(4000, required=True)  # type: ignore[valid-type]


class ReviewAction(_TicketAction):
    """Admins only: approve or reject (with ``note`` as the reason) an answer proposed for the knowledge base."""

    action: Literal["approve", "reject"]


class ContactedAction(_TicketAction):
    action: Literal["contacted"]


TicketPatch = Annotated[
    Union[TransitionAction, AssignAction, RouteAction, ResolveAction, NoteAction, ReviewAction, ContactedAction],
    Field(discriminator="action"),
]


class NoticeIn(Strict):
    kind: Literal["planned_outage", "fault_outage", "tariff", "other"] = "planned_outage"
    title: text(200, required=True)  # type: ignore[valid-type]
    areas: list[text(100, required=True)] = Field(min_length=1, max_length=50)  # type: ignore[valid-type]
    starts_at: Moment
    ends_at: Moment = Field(description="after starts_at")
    cause: text(1000) = ""  # type: ignore[valid-type]
    restoration: text(1000) = ""  # type: ignore[valid-type]
    body: text(4000) = ""  # type: ignore[valid-type]


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
    note: text(1000) = ""  # type: ignore[valid-type]


class KeyRequest(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Literal["agent", "admin"] = "agent"
    department: str = Field("", max_length=64, description="an agent's department (归口部门): they may take and assign its tickets")


class KeyOut(BaseModel):
    id: str
    name: str
    role: str
    key: str
    department: str = ""


class KeyInfo(BaseModel):
    id: str
    name: str
    role: str
    department: str = ""
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


# POST /api/erasures: the customer named by exactly one of a phone number, a session id or a ticket number
# (the forms chat.contact.parse_phone accepts, with single spaces or dashes between the digits)
PHONE_PATTERN = r"^(?:(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]){8}|(?:010|02[0-9]|0[3-9][0-9]{2})[ -]?[1-9](?:[ -]?[0-9]){6,7})$"
class ErasureByPhone(Strict):
    phone: str = Field(
        max_length=24, pattern=PHONE_PATTERN,
        description="mobile (13912345678, 139-1234-5678, +86 139…) or landline with its area code (0755-12345678, 010 12345678)",
    )


class ErasureBySession(Strict):
    session_id: str = Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description="the chat session's id")


class ErasureByTicket(Strict):
    ticket: str = Field(pattern=r"^[Gg][Dd][0-9]{8}-[0-9]{6}$", description="the ticket number, e.g. GD20261202-000012")


ErasureRequest = Union[ErasureByPhone, ErasureBySession, ErasureByTicket]


class ErasureOut(BaseModel):
    """One erasure (or retention run) as audited: counts and ticket numbers, never the erased data."""

    id: int | None
    at: datetime
    actor: str
    kind: Literal["phone", "session", "ticket", "retention"]
    sessions: int = Field(description="chat sessions deleted, with their messages and feedback")
    messages: int
    feedback: int
    tickets: list[str] = Field(description="tickets whose personal fields were replaced (number, status, category and dates kept)")
    query_cache: int = Field(description="entries dropped from the shared query-vector cache")
    complete: bool = Field(True, description="the deleted bytes also left the database files (false: the next checkpoint removes them)")
