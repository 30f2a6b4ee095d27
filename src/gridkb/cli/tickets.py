"""Tickets (工单) at the terminal: the queue, one ticket with its history, and the lifecycle commands."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from gridkb import display
from gridkb.cli.common import ActorOption, DbOption, JsonOption, KbOption, acting, clean_errors, console, open_service, print_json, tickets_app
from gridkb.labels import category_name, label
from gridkb.records import Role, TicketOrigin, TicketStatus

if TYPE_CHECKING:
    from gridkb.service import GridService

_TICKET_FIELDS = {
    "status": "状态", "origin": "来源", "priority": "优先级", "queue": "队列", "category": "分类", "department": "归口部门",
    "assignee": "处理人", "channel": "渠道", "contact": "联系方式", "question": "问题", "created_at": "创建时间",
    "first_response_due": "首次响应时限", "due_at": "办结时限", "first_responded_at": "首次响应时间",
    "resolved_at": "解决时间", "resolution": "处理结果", "publication": "知识发布",
}


def _print_ticket(ticket: Any, taxonomy: Any) -> None:
    """A ticket as an agent reads it: Chinese labels, Beijing time, the transcript, then the history as a timeline."""
    console.print(Text.assemble(("工单 ", "bold"), (ticket.number, "bold")), soft_wrap=True)
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column("field", style="dim", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, name in _TICKET_FIELDS.items():
        value = getattr(ticket, key)
        if key == "category":
            value = category_name(value, taxonomy)
        table.add_row(name, label(value) if key == "channel" else display.text(value))
    console.print(table)
    if ticket.transcript:
        console.print("\n对话记录", style="bold")
    for turn in ticket.transcript:
        when = display.local_time(turn.at)
        console.print(Text.assemble((f"{when} {display.speaker(turn.role)}：", "dim"), turn.text), highlight=False)
    if ticket.events:
        console.print("\n处理记录", style="bold")
    for event in ticket.events:
        console.print(Text(_event_line(event)), highlight=False)


def _event_line(event: Any) -> str:
    """One line of a ticket's history: when, who, what (status change), details."""
    change = ""
    if event.to_status and event.from_status != event.to_status:
        change = f"（{label(event.from_status) + ' → ' if event.from_status else ''}{label(event.to_status)}）"
    detail = display.detail_text(event.detail or {})
    return f"{display.local_time(event.at)}  {display.speaker(event.actor)}  {label(event.action)}{change}" + (f"  {detail}" if detail else "")


@tickets_app.command("list")
@clean_errors
def tickets_list(
    status: Annotated[list[str] | None, typer.Option(help="new, triaged, assigned, in_progress, resolved, closed, reopened")] = None,
    department: Annotated[str | None, typer.Option(help="归口部门")] = None,
    overdue: Annotated[bool, typer.Option(help="only tickets past their due time")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    kb: KbOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """The ticket queue, newest first (contact details masked)."""
    service = open_service(kb, db)
    try:
        statuses = [TicketStatus(s) for s in status or ()]
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    tickets = [service.tickets.view(t, Role.AGENT) for t in service.tickets.queue(statuses, department, overdue=overdue, limit=limit)]
    if json_output:
        print_json([t.to_dict() for t in tickets])
        return
    table = Table(title="工单队列", caption="办结时限为北京时间，红色为已超时", box=box.SIMPLE_HEAD, collapse_padding=True, show_edge=False)
    table.add_column("工单号", no_wrap=True, min_width=17)  # never cut: agents copy it
    # min_width only on the number: rich crops (loses characters) when minimum widths add up past the terminal
    for column in ("状态", "优先级", "队列", "部门", "办结时限", "问题"):
        table.add_column(column, overflow="fold", max_width=10 if column == "部门" else None)
    now = service.clock()
    for t in tickets:
        due = Text(display.local_time(t.due_at, with_date=False), style="red" if t.breached(now) else "")
        table.add_row(t.number, label(t.status), label(t.priority), label(t.queue), t.department, due, t.question[:40])
    console.print(table)


TicketNumberArgument = Annotated[
    str, typer.Argument(help="the ticket number (GD20261202-000012) or today's serial (12 = GD<today>-000012)", show_default=False)
]


def ticket_number(value: str, now: datetime) -> str:
    """A full ticket number as given, or today's serial expanded the way the store numbers tickets (by UTC day)."""
    value = value.strip().upper()
    if value.isdigit() and len(value) <= 6:
        return f"GD{now.astimezone(timezone.utc):%Y%m%d}-{int(value):06d}"
    day, dash, serial = value.removeprefix("GD").partition("-")
    if len(day) == 8 and day.isdigit() and dash and serial.isdigit():
        return f"GD{day}-{int(serial):06d}"  # GD20261202-12 or 20261202-000012
    return value


def _service_and_number(kb: Path | None, db: str | None, number: str) -> tuple[GridService, str]:
    """The composition root and the full ticket number (today's serial expanded)."""
    service = open_service(kb, db)
    return service, ticket_number(number, service.clock())


@tickets_app.command("show")
@clean_errors
def tickets_show(number: TicketNumberArgument, kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """One ticket with its transcript and history. NUMBER is the full number or today's serial: `tickets show 12`."""
    service, number = _service_and_number(kb, db, number)
    ticket = service.tickets.view(service.tickets.get(number), Role.ADMIN)
    if json_output:
        print_json(ticket.to_dict())
    else:
        _print_ticket(ticket, service.taxonomy)


@tickets_app.command("create")
@clean_errors
def tickets_create(
    question: Annotated[str, typer.Option(help="the customer's question or request")],
    category: Annotated[str, typer.Option(help="taxonomy code; routes the ticket")] = "unknown",
    contact: Annotated[str, typer.Option(help="how to reach the customer")] = "",
    actor: ActorOption = "",
    kb: KbOption = None,
    db: DbOption = None,
) -> None:
    """Open a ticket by hand."""
    ticket = open_service(kb, db).tickets.open(TicketOrigin.AGENT, question, acting(actor), category=category, contact=contact)
    console.print(f"工单 {ticket.number} 已创建 → {ticket.department}，办结时限 {display.local_time(ticket.due_at)}", highlight=False)


@tickets_app.command("assign")
@clean_errors
def tickets_assign(number: TicketNumberArgument, assignee: str, note: str = "", actor: ActorOption = "", kb: KbOption = None, db: DbOption = None) -> None:
    """Assign a ticket to an agent."""
    service, number = _service_and_number(kb, db, number)
    ticket = service.tickets.assign(number, assignee, acting(actor), note)
    console.print(f"工单 {ticket.number}：{label(ticket.status)}，处理人 {ticket.assignee}", highlight=False)


@tickets_app.command("move")
@clean_errors
def tickets_move(
    number: TicketNumberArgument,
    status: Annotated[str, typer.Argument(help="triaged, in_progress, closed, reopened")],
    note: str = "",
    actor: ActorOption = "",
    kb: KbOption = None,
    db: DbOption = None,
) -> None:
    """Move a ticket along its lifecycle."""
    try:
        target = TicketStatus(status)
    except ValueError:
        raise typer.BadParameter(f"unknown status '{status}'") from None
    service, number = _service_and_number(kb, db, number)
    ticket = service.tickets.transition(number, target, acting(actor), note)
    console.print(f"工单 {ticket.number}：{label(ticket.status)}", highlight=False)


@tickets_app.command("route")
@clean_errors
def tickets_route(number: TicketNumberArgument, department: str, note: str = "", actor: ActorOption = "", kb: KbOption = None, db: DbOption = None) -> None:
    """Send a ticket to another department (manual override of the routing)."""
    service, number = _service_and_number(kb, db, number)
    ticket = service.tickets.route(number, department, acting(actor), note)
    console.print(f"工单 {ticket.number} 已转派 → {ticket.department}", highlight=False)


@tickets_app.command("resolve")
@clean_errors
def tickets_resolve(
    number: TicketNumberArgument,
    answer: Annotated[str, typer.Option(help="the answer given to the customer")],
    publish: Annotated[bool, typer.Option(help="propose the answer for the knowledge base")] = False,
    actor: ActorOption = "",
    kb: KbOption = None,
    db: DbOption = None,
) -> None:
    """Resolve a ticket with its answer."""
    service, number = _service_and_number(kb, db, number)
    ticket = service.tickets.resolve(number, answer, acting(actor), publish)
    console.print(f"工单 {ticket.number}：{label(ticket.status)}" + ("（答复已拟为知识库问答，待审核发布）" if publish else ""), highlight=False)


@tickets_app.command("approve")
@clean_errors
def tickets_approve(number: TicketNumberArgument, actor: ActorOption = "", kb: KbOption = None, db: DbOption = None) -> None:
    """Approve a ticket's draft FAQ entry: it is published into the knowledge base."""
    service, number = _service_and_number(kb, db, number)
    ticket, report = service.publisher.approve(number, acting(actor))
    console.print(f"工单 {ticket.number}：答复已发布入知识库（版本 {report.generation}，新向量化 {report.embedded} 段文本）", highlight=False)


@tickets_app.command("reject")
@clean_errors
def tickets_reject(number: TicketNumberArgument, reason: Annotated[str, typer.Option(help="why")], actor: ActorOption = "", kb: KbOption = None, db: DbOption = None) -> None:
    """Reject a ticket's draft FAQ entry."""
    service, number = _service_and_number(kb, db, number)
    ticket = service.publisher.reject(number, acting(actor), reason)
    console.print(f"工单 {ticket.number}：发布状态 {label(ticket.publication)}", highlight=False)
