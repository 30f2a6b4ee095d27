"""What an agent or admin does to a ticket, as one typed request dispatched to the lifecycle
(``TicketService``) or to the publication of its answer (``KnowledgePublisher``). The HTTP API's
``PATCH /api/tickets/{number}`` sends every action here; who may do what is decided here too."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from gridkb.errors import ReviewRefusedError, TicketError
from gridkb.records import Role, Ticket, TicketStatus

if TYPE_CHECKING:  # the publisher loads the build pipeline: imported by whoever builds it
    from gridkb.tickets.publish import KnowledgePublisher
    from gridkb.tickets.service import TicketService


class TicketActionKind(str, Enum):
    TRANSITION = "transition"  # a status change the lifecycle allows (``status``)
    ASSIGN = "assign"  # give it to ``assignee``
    ROUTE = "route"  # send it to ``department``
    RESOLVE = "resolve"  # answer the customer (``resolution``), optionally proposing it for the knowledge base
    CONTACTED = "contacted"  # the first response was made
    NOTE = "note"  # a note in the history
    APPROVE = "approve"  # admins: publish the proposed answer into the knowledge base
    REJECT = "reject"  # admins: refuse it (``note`` is the reason)


REVIEWS = (TicketActionKind.APPROVE, TicketActionKind.REJECT)


@dataclass(frozen=True)
class TicketAction:
    """One action with the fields it needs (the others keep their defaults)."""

    kind: TicketActionKind
    note: str = ""
    status: TicketStatus | None = None
    assignee: str = ""
    department: str = ""
    resolution: str = ""
    publish: bool = False


@dataclass(frozen=True)
class Actor:
    """Who acts: their name for the history, their role, and an agent's department (what they may assign)."""

    name: str
    role: Role
    department: str = ""


def apply_action(tickets: TicketService, publisher: KnowledgePublisher, number: str, action: TicketAction, actor: Actor) -> Ticket:
    """Do ``action`` to ticket ``number`` as ``actor``; the ticket as it is afterwards. Raises
    ReviewRefusedError when a non-admin approves or rejects, and the lifecycle's TicketErrors."""
    kind = action.kind
    if kind in REVIEWS:
        if actor.role is not Role.ADMIN:
            raise ReviewRefusedError("只有管理员可以审核发布到知识库的答案")
        if kind is TicketActionKind.APPROVE:
            return publisher.approve(number, actor.name)[0]
        return publisher.reject(number, actor.name, action.note)
    if kind is TicketActionKind.TRANSITION:
        if action.status is None:
            raise TicketError("请给出目标状态（status）")
        return tickets.transition(number, action.status, actor.name, action.note)
    if kind is TicketActionKind.ASSIGN:
        return tickets.assign(number, action.assignee, actor.name, action.note, actor.role, actor.department)
    if kind is TicketActionKind.ROUTE:
        return tickets.route(number, action.department, actor.name, action.note)
    if kind is TicketActionKind.RESOLVE:
        return tickets.resolve(number, action.resolution, actor.name, action.publish)
    if kind is TicketActionKind.CONTACTED:
        return tickets.mark_first_response(number, actor.name, action.note)
    return tickets.note(number, actor.name, action.note)
