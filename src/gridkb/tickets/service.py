"""Tickets (工单): opened by the bot or an agent, routed to the responsible department, worked
through a fixed lifecycle, every step recorded in an append-only history (留痕).

    new → triaged → assigned → in_progress → resolved → closed
                         ↑                        ↓         ↓
                         └──────── reopened ←─────┴─────────┘

Invalid transitions are refused with a clear error; routing follows the taxonomy's department and
can be overridden by hand. Contact details and transcripts are masked for roles that need not see
them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from gridkb.errors import AssignmentRefusedError, InvalidTransitionError, TicketError, TicketNotFoundError
from gridkb.moments import CHINA
from gridkb.organisation.taxonomy import Taxonomy
from gridkb.privacy import mask_each, mask_personal_data
from gridkb.records import Priority, Publication, Queue, Role, Ticket, TicketEvent, TicketOrigin, TicketStatus, TranscriptTurn
from gridkb.storage.protocols import ServiceStorage
from gridkb.tickets.sla import ServiceLevels

MAX_TEXT = 4000

S = TicketStatus
TRANSITIONS: dict[TicketStatus, tuple[TicketStatus, ...]] = {
    S.NEW: (S.TRIAGED, S.ASSIGNED),
    S.TRIAGED: (S.ASSIGNED,),
    S.ASSIGNED: (S.IN_PROGRESS,),
    S.IN_PROGRESS: (S.RESOLVED,),
    S.RESOLVED: (S.CLOSED, S.REOPENED),
    S.CLOSED: (S.REOPENED,),
    S.REOPENED: (S.ASSIGNED, S.IN_PROGRESS),
}
ASSIGNABLE = tuple(s for s in S if not s.finished)
log = logging.getLogger("gridkb.tickets")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class TicketService:
    def __init__(
        self, store: ServiceStorage, levels: ServiceLevels, taxonomy: Taxonomy, clock: Callable[[], datetime] = _now
    ) -> None:
        self.store = store
        self.levels = levels
        self.taxonomy = taxonomy
        self.clock = clock

    # --- opening and reading

    def open(
        self,
        origin: TicketOrigin,
        question: str,
        actor: str,
        channel: str = "agent",
        category: str = "unknown",
        department: str = "",
        transcript: Sequence[TranscriptTurn] = (),
        session_id: str | None = None,
        contact: str = "",
        priority: Priority | None = None,
        reason: str = "",
    ) -> Ticket:
        """A new ticket, routed to the category's department, with its due times from the service levels."""
        question = question.strip()
        if not question:
            raise TicketError("工单须写明客户的问题")
        if len(question) > MAX_TEXT or len(contact) > 128:
            raise TicketError(f"问题最多 {MAX_TEXT} 个字符，联系方式最多 128 个字符")
        if category != "unknown" and self.taxonomy.get(category) is None:
            raise TicketError(f"未知的业务分类 '{category}'")
        level = self.levels[origin]
        now = self.clock()
        local = now.astimezone(CHINA)
        department = department or self.taxonomy.department(category) or "客户服务中心"
        ticket = Ticket(
            channel=channel, origin=origin, question=question, category=category, department=department,
            queue=level.queue, priority=priority or level.priority, status=S.NEW, created_at=now,
            first_response_due=level.first_response.after(local), due_at=level.resolve.after(local),
            transcript=tuple(transcript), session_id=session_id, contact=contact.strip(),
        )
        detail = {"origin": origin.value, "department": department, "queue": level.queue.value, "reason": reason}
        return self.store.insert_ticket(ticket, TicketEvent(now, actor, "created", "", S.NEW.value, detail))

    def get(self, number: str) -> Ticket:
        ticket = self.store.ticket(number)
        if ticket is None:
            raise TicketNotFoundError(f"没有编号为 {number} 的工单")
        return ticket

    def queue(
        self,
        status: Sequence[TicketStatus] = (),
        department: str | None = None,
        category: str | None = None,
        queue: Queue | None = None,
        overdue: bool = False,
        limit: int = 200,
        offset: int = 0,
        urgent_first: bool = False,
    ) -> list[Ticket]:
        """The ticket queue, newest first, or with ``urgent_first`` open tickets by priority then due
        time; ``overdue``: only those past their due time and not finished."""
        overdue_at = self.clock() if overdue else None
        return self.store.tickets(status, department, category, queue, overdue_at, limit=limit, offset=offset, urgent_first=urgent_first)

    # --- the lifecycle

    def transition(self, number: str, to: TicketStatus, actor: str, note: str = "") -> Ticket:
        """Move a ticket along its lifecycle (resolving needs ``resolve``, assigning ``assign``)."""
        if to is S.RESOLVED:
            raise InvalidTransitionError("解决工单请填写处理结果（resolve）")
        if to is S.ASSIGNED:
            raise InvalidTransitionError("分派工单请指定处理人（assign）")
        ticket = self.get(number)
        self._check(ticket, to)
        now = self.clock()
        changes: dict[str, Any] = {"status": to}
        if to is S.IN_PROGRESS and ticket.first_responded_at is None:
            changes["first_responded_at"] = now
        if to is S.CLOSED:
            changes["closed_at"] = now
        if to is S.REOPENED:
            changes.update(resolved_at=None, closed_at=None, due_at=self.levels[ticket.origin].resolve.after(now.astimezone(CHINA)))
        return self._save(ticket, changes, actor, "transition", {"note": note})

    def assign(
        self, number: str, assignee: str, actor: str, note: str = "", role: Role = Role.SYSTEM, department: str = ""
    ) -> Ticket:
        """Give the ticket to ``assignee``, who then sees the customer's data. Supervisors (admins) and
        the system assign any ticket; an agent (``role``, of ``department``) only their department's,
        to themselves or a colleague. Raises AssignmentRefusedError; every assignment says on what grounds."""
        ticket = self.get(number)
        assignee = assignee.strip()
        if not assignee:
            raise TicketError("请指定处理人")
        if ticket.status not in ASSIGNABLE:
            raise InvalidTransitionError(f"工单 {number} 当前状态为 {ticket.status.value}，不能分派（可分派状态：{_names(ASSIGNABLE)}）")
        grounds = _assignment_grounds(ticket, role, department)
        taken = assignee == actor
        if grounds is None:
            log.warning("ticket %s: %s (%s, department %r) refused assigning it to %s", number, actor, role.value, department, "self" if taken else assignee)
            raise AssignmentRefusedError(
                f"工单 {number} 归口 {ticket.department}：坐席只能领取和分派本部门的工单"
                f"（当前密钥的部门：{department or '未设置'}），请由管理员分派"
            )
        if taken:  # audited: who took which ticket and why they could (never the customer's data)
            log.info("ticket %s taken by %s (grounds: %s)", number, actor, grounds)
        status = ticket.status if ticket.status is S.IN_PROGRESS else S.ASSIGNED
        detail = {"assignee": assignee, "note": note, "grounds": grounds, "self": taken}
        return self._save(ticket, {"status": status, "assignee": assignee}, actor, "assigned", detail)

    def route(self, number: str, department: str, actor: str, note: str = "") -> Ticket:
        """Manual override of the responsible department."""
        ticket = self.get(number)
        department = department.strip()
        if not department:
            raise TicketError("请指定归口部门")
        if ticket.status.finished:
            raise InvalidTransitionError(f"工单 {number} 已{'解决' if ticket.status is S.RESOLVED else '关闭'}，不能改派部门")
        detail = {"from": ticket.department, "to": department, "note": note}
        return self._save(ticket, {"department": department}, actor, "routed", detail)

    def resolve(self, number: str, resolution: str, actor: str, publish: bool = False) -> Ticket:
        """Resolve with the answer given to the customer; ``publish`` proposes it for the knowledge base."""
        ticket = self.get(number)
        resolution = resolution.strip()
        if not resolution:
            raise TicketError("请填写处理结果")
        if len(resolution) > MAX_TEXT:
            raise TicketError(f"处理结果最多 {MAX_TEXT} 个字符")
        self._check(ticket, S.RESOLVED)
        now = self.clock()
        changes: dict[str, Any] = {"status": S.RESOLVED, "resolution": resolution, "resolved_at": now, "publish": publish}
        changes["first_responded_at"] = ticket.first_responded_at or now
        changes["publication"] = Publication.DRAFT if publish else Publication.NONE
        return self._save(ticket, changes, actor, "resolved", {"publish": publish})

    def mark_first_response(self, number: str, actor: str, note: str = "") -> Ticket:
        """The customer has been contacted (the first-response clock stops)."""
        ticket = self.get(number)
        if ticket.first_responded_at is not None:
            return ticket
        return self._save(ticket, {"first_responded_at": self.clock()}, actor, "contacted", {"note": note})

    def add_contact(self, number: str, actor: str, contact: str = "", address: str = "") -> Ticket:
        """Record how to reach the customer and where the problem is (left in the chat after the
        ticket was opened); the history keeps only the masked values."""
        ticket = self.get(number)
        contact, address = contact.strip(), address.strip()
        if len(contact) > 128 or len(address) > 256:
            raise TicketError("联系方式最多 128 个字符，地址最多 256 个字符")
        changes = {name: value for name, value in (("contact", contact), ("address", address)) if value}
        if not changes:
            return ticket
        detail = {name: mask_personal_data(value) for name, value in changes.items()}
        return self._save(ticket, changes, actor, "contact", detail)

    def note(self, number: str, actor: str, text: str) -> Ticket:
        ticket = self.get(number)
        if not text.strip():
            raise TicketError("备注不能为空")
        return self._save(ticket, {}, actor, "note", {"note": text.strip()[:MAX_TEXT]})

    def set_publication(self, number: str, publication: Publication, actor: str, detail: dict[str, Any]) -> Ticket:
        """Record an admin's decision on a draft FAQ entry (see ``publish.py``)."""
        ticket = self.get(number)
        if ticket.publication is not Publication.DRAFT:
            raise InvalidTransitionError(f"工单 {number} 没有待审核的知识条目")  # a state conflict: 409
        action = "approved" if publication is Publication.PUBLISHED else "rejected"
        return self._save(ticket, {"publication": publication}, actor, action, detail)

    # --- views

    @staticmethod
    def view(ticket: Ticket, role: Role, viewer: str = "") -> Ticket:
        """The ticket as ``role`` may see it: contact, transcript and the history's notes unmasked
        only for admins and the agent it is assigned to (the one place that decides it)."""
        if role is Role.ADMIN or role is Role.SYSTEM or (role is Role.AGENT and viewer and viewer == ticket.assignee):
            return ticket
        return replace(
            ticket,
            contact=mask_personal_data(ticket.contact) if ticket.contact else "",
            address=mask_personal_data(ticket.address),
            question=mask_personal_data(ticket.question),
            transcript=tuple(replace(t, text=mask_personal_data(t.text)) for t in ticket.transcript),
            resolution=mask_personal_data(ticket.resolution),
            events=tuple(replace(e, detail=mask_each(e.detail)) for e in ticket.events),
        )

    # --- internals

    def _check(self, ticket: Ticket, to: TicketStatus) -> None:
        allowed = TRANSITIONS.get(ticket.status, ())
        if to not in allowed:
            raise InvalidTransitionError(
                f"工单 {ticket.number} 当前状态为 {ticket.status.value}，不能变更为 {to.value}（允许：{_names(allowed) or '无'}）"
            )

    def _save(self, ticket: Ticket, changes: dict[str, Any], actor: str, action: str, detail: dict[str, Any]) -> Ticket:
        updated = replace(ticket, **changes)
        event = TicketEvent(self.clock(), actor, action, ticket.status.value, updated.status.value, detail)
        return self.store.update_ticket(updated, event, expected_status=ticket.status)


def next_actions(ticket: Ticket) -> list[tuple[str, str]]:
    """What may be done to ``ticket`` now, as (action, target status) pairs of the PATCH API, so the
    console shows the lifecycle's buttons without encoding it again ("" when no status is named)."""
    allowed = TRANSITIONS.get(ticket.status, ())
    actions = [("transition", s.value) for s in allowed if s not in (S.RESOLVED, S.ASSIGNED)]
    if ticket.status in ASSIGNABLE:
        actions.append(("assign", ""))
    if S.RESOLVED in allowed:
        actions.append(("resolve", ""))
    if not ticket.status.finished:
        actions.append(("route", ""))
    if ticket.first_responded_at is None and not ticket.status.finished:
        actions.append(("contacted", ""))
    if ticket.publication is Publication.DRAFT:
        actions += [("approve", ""), ("reject", "")]
    return actions + [("note", "")]


def _assignment_grounds(ticket: Ticket, role: Role, department: str) -> str | None:
    """Why ``role`` of ``department`` may assign ``ticket`` ("supervisor", "department", "system"); None: it may not."""
    if role is Role.ADMIN:
        return "supervisor"
    if role is Role.SYSTEM:
        return "system"
    if role is Role.AGENT and department and department == ticket.department:
        return "department"
    return None


def _names(statuses: Sequence[TicketStatus]) -> str:
    return ", ".join(s.value for s in statuses)
