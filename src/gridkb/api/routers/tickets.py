"""Tickets (工单): the queue, opening one by hand, reading one, and every lifecycle action (one PATCH
with the action's own body; the dispatch and who may do what are the library's)."""

from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from gridkb.api import schemas
from gridkb.api.auth import Caller
from gridkb.api.deps import Allowed, Service
from gridkb.api.errors import error_responses
from gridkb.api.views import ticket_labels, ticket_statuses
from gridkb.records import Priority, Ticket, TicketOrigin, TicketStatus
from gridkb.service import GridService, TicketAction, TicketActionKind

Number = Annotated[str, PathParam(max_length=32)]


def build_router(categories: Sequence[str]) -> APIRouter:
    """The ticket routes of an app whose taxonomy has ``categories`` (the codes the create body accepts,
    listed in the OpenAPI document): built per app, as the taxonomy comes from its settings."""
    router = APIRouter(tags=["tickets"])
    TicketCreate = schemas.ticket_create_for(categories)

    @router.get("/api/tickets", response_model=list[schemas.TicketOut])
    def tickets(
        who: Allowed,
        service: Service,
        status: Annotated[list[TicketStatus] | None, Query()] = None,
        department: Annotated[str | None, Query(max_length=64)] = None,
        category: Annotated[str | None, Query(max_length=64)] = None,
        overdue: bool = False,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=100000)] = 0,
        sort: Annotated[Literal["newest", "urgency"], Query(description="urgency: open tickets first, by priority, then due time")] = "newest",
    ) -> list[dict[str, Any]]:
        found = service.tickets.queue(
            status or [], department or None, category or None, overdue=overdue, limit=limit, offset=offset, urgent_first=sort == "urgency"
        )
        return [ticket_out(service, t, who, detail=False) for t in found]

    @router.get("/api/ticket-statuses", response_model=list[schemas.TicketStatusOut])
    def statuses(who: Allowed) -> list[dict[str, Any]]:
        """The lifecycle's statuses with their Chinese labels, whether each is finished, and where each may go."""
        return ticket_statuses()

    @router.post("/api/tickets", response_model=schemas.TicketOut, status_code=201)
    def create_ticket(body: TicketCreate, who: Allowed, service: Service) -> dict[str, Any]:  # type: ignore[valid-type]
        asked: schemas.TicketCreate = body  # the per-app class is a TicketCreate with the taxonomy's codes
        ticket = service.tickets.open(
            TicketOrigin.AGENT, asked.question, who.name, category=asked.category, contact=asked.contact,
            priority=Priority(asked.priority) if asked.priority else None,
        )
        return ticket_out(service, ticket, who)

    @router.get("/api/tickets/{number}", response_model=schemas.TicketOut, responses=error_responses(404))
    def get_ticket(number: Number, who: Allowed, service: Service) -> dict[str, Any]:
        return ticket_out(service, service.tickets.get(number), who)

    @router.patch("/api/tickets/{number}", response_model=schemas.TicketOut, responses=error_responses(404, 409))
    def patch_ticket(number: Number, body: schemas.TicketPatch, who: Allowed, service: Service) -> dict[str, Any]:
        """Lifecycle: ``transition`` (status), ``assign`` (assignee), ``route`` (department), ``resolve``
        (resolution, publish), ``contacted``, ``note``; admins: ``approve`` / ``reject`` a published answer."""
        return ticket_out(service, service.act_on_ticket(number, ticket_action(body), who), who)

    return router


def ticket_action(body: Any) -> TicketAction:
    """The library's action from one of the PATCH bodies (``schemas.TicketPatch``)."""
    fields = body.model_dump(exclude={"action"})
    if "status" in fields:
        fields["status"] = TicketStatus(fields["status"])
    return TicketAction(TicketActionKind(body.action), **fields)


def ticket_out(service: GridService, ticket: Ticket, who: Caller, detail: bool = True) -> dict[str, Any]:
    """``schemas.TicketOut``: the ticket as ``who`` may see it (masked), with its Chinese display fields;
    in a list (``detail`` False) without transcript, history and timeline."""
    shown = service.tickets.view(ticket, who.role, who.name)
    now = service.clock()
    data = shown.to_dict()
    for name in ("origin", "queue", "priority", "status", "publication"):
        data[name] = getattr(shown, name).value
    data["breached"] = shown.breached(now)
    data["transcript"] = [t.to_dict() for t in shown.transcript] if detail else []
    data["events"] = [e.to_dict() for e in shown.events] if detail else []
    data |= ticket_labels(shown if detail else replace(shown, events=()), service.taxonomy, who.role, overdue=shown.due_at < now)
    return data
