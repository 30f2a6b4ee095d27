"""Rows ↔ records: the service database's rows become gridkb's typed records on the way out, and
records become column values on the way in (enums as their values, tuples as JSON lists)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gridkb.records import (
    ApiKeyInfo,
    Citation,
    ChatMessage,
    IngestJob,
    IngestReport,
    JobStatus,
    Notice,
    Priority,
    Publication,
    Queue,
    Role,
    Ticket,
    TranscriptTurn,
    TicketEvent,
    TicketOrigin,
    TicketStatus,
)
from gridkb.storage.service_db.tables import KEY_ID_LENGTH, ApiKeyRow, IngestJobRow, MessageRow, NoticeRow, TicketEventRow, TicketRow


def message_from_row(row: MessageRow) -> ChatMessage:
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
        sources=tuple(Citation.from_dict(source) for source in row.sources or ()),
        suggestions=tuple(row.suggestions or ()),
        ticket_number=row.ticket_number,
        step=row.step,
    )


def ticket_columns(ticket: Ticket) -> dict[str, Any]:
    data = {name: getattr(ticket, name) for name in TicketRow.__table__.columns.keys()}
    for name in ("origin", "queue", "priority", "status", "publication"):
        data[name] = data[name].value
    data["transcript"] = [t.to_dict() for t in ticket.transcript]
    return data


def event_row(number: str, event: TicketEvent) -> TicketEventRow:
    return TicketEventRow(
        ticket_number=number, at=event.at, actor=event.actor, action=event.action,
        from_status=event.from_status, to_status=event.to_status, detail=dict(event.detail),
    )


def ticket_from_row(row: TicketRow, events: Sequence[TicketEventRow]) -> Ticket:
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
        transcript=tuple(TranscriptTurn.from_dict(turn) for turn in row.transcript or ()),
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


def notice_from_row(row: NoticeRow) -> Notice:
    return Notice(
        kind=row.kind, title=row.title, areas=tuple(row.areas or ()), starts_at=row.starts_at,
        ends_at=row.ends_at, cause=row.cause, restoration=row.restoration, body=row.body,
        created_by=row.created_by, created_at=row.created_at, expired_at=row.expired_at, id=row.id,
    )


def api_key_from_row(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.key_hash[:KEY_ID_LENGTH], name=row.name, role=Role(row.role), department=row.department,
        created_at=row.created_at, revoked_at=row.revoked_at,
    )


def job_from_row(row: IngestJobRow) -> IngestJob:
    return IngestJob(
        id=row.id, status=JobStatus(row.status), files=tuple(row.files or ()), created_by=row.created_by,
        created_at=row.created_at, stage=row.stage, done=row.done, total=row.total, finished_at=row.finished_at,
        report=IngestReport.from_dict(row.report) if row.report else None, error=row.error,
    )


def job_columns(status: JobStatus | None, report: IngestReport | None, **fields: Any) -> dict[str, Any]:
    """Column values of a job update: the given fields that are not None, enums as values, the report as JSON."""
    columns = {name: value for name, value in fields.items() if value is not None}
    if status is not None:
        columns["status"] = status.value
    if report is not None:
        columns["report"] = report.to_dict()
    return columns
