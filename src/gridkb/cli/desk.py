"""The service desk at the terminal: chat with the bot, temporary notices, knowledge gaps, service metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gridkb import display
from gridkb.cli.common import (
    ActorOption, DbOption, JsonOption, KbOption, SinceOption, acting, app, clean_errors, console, moment, notices_app, open_service,
    print_json, since_moment,
)
from gridkb.errors import GridkbError
from gridkb.labels import category_name, label
from gridkb.records import TicketOrigin, TicketStatus


HANDOFF_MESSAGE = "转人工"  # what choosing "none of these" of a clarifying question says


@app.command()
@clean_errors
def chat(kb: KbOption = None, db: DbOption = None, channel: Annotated[str, typer.Option(help="channel recorded on the session")] = "terminal") -> None:
    """Chat with the bot in the terminal (one session; /good, /bad [comment], /rate N give feedback; /quit ends)."""
    service = open_service(kb, db)
    session_id = None
    last_message = None
    options: tuple[str, ...] = ()
    console.print("[dim]供电服务智能客服 · 输入问题，/quit 退出[/dim]")
    while True:
        try:
            line = console.input("[bold]您：[/bold]").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if line in ("/quit", "/exit"):
            break
        if line.startswith(("/good", "/bad", "/rate")) and session_id and last_message:
            command, _, rest = line.partition(" ")
            helpful = {"/good": True, "/bad": False}.get(command)
            rating = int(rest) if command == "/rate" and rest.isdigit() else None
            _, ticket = service.feedback(session_id, last_message, helpful, rating, rest if command == "/bad" else "")
            console.print("[dim]感谢评价" + (f"，已创建工单 {ticket.number}" if ticket else "") + "[/dim]")
            continue
        if not line:
            continue
        if options and line.isdigit() and int(line) <= len(options):  # the number of a clarifying question's option
            line = options[int(line) - 1] if int(line) else HANDOFF_MESSAGE
            console.print(f"[dim]您：{line}[/dim]", highlight=False, markup=False)
        reply = service.chat(session_id, line, channel=channel)
        session_id, last_message, options = reply.session_id, reply.message_id, reply.options
        console.print(Text.assemble(("客服：", "bold green"), reply.answer), highlight=False)  # the answer is text, never markup
        for i, source in enumerate(reply.sources, start=1):
            console.print(f"[dim]  \\[{i}] {escape(source.title)} › {escape(source.section)}[/dim]", highlight=False)
        for number, option in enumerate(reply.options, start=1):
            console.print(f"  {number}. {option}", highlight=False, markup=False)
        if reply.options:
            console.print("  0. 都不是，转人工", highlight=False, markup=False)
        elif reply.choices:  # the contact collection after a handoff: type a choice, a phone number or an address
            console.print("  可回复：" + " / ".join(reply.choices), highlight=False, markup=False)
        elif reply.suggestions:
            console.print("[dim]  猜你想问: " + escape(" | ".join(reply.suggestions)) + "[/dim]", highlight=False)
        state = "已解答" if reply.resolved else "未解决"
        opened = f" · 工单 {reply.ticket_number}" if reply.ticket_number else ""
        console.print(f"[dim]  {state} · 置信度 {reply.confidence:.2f} · {reply.intent.value}{opened}[/dim]", highlight=False)


@notices_app.command("add")
@clean_errors
def notices_add(
    title: Annotated[str, typer.Option(help="e.g. 人民路线路检修计划停电")],
    area: Annotated[list[str], typer.Option(help="an affected street, community or district (repeat the option)")],
    starts: Annotated[str, typer.Option("--from", help="start, e.g. 2026-11-26T08:00 (Beijing time unless an offset is given)")],
    ends: Annotated[str, typer.Option("--to", help="end, e.g. 2026-11-26T18:00")],
    kind: Annotated[str, typer.Option(help="planned_outage | fault_outage | tariff | other")] = "planned_outage",
    cause: Annotated[str, typer.Option(help="why")] = "",
    restoration: Annotated[str, typer.Option(help="expected restoration, in words")] = "",
    body: Annotated[str, typer.Option(help="anything else customers should know")] = "",
    actor: ActorOption = "",
    kb: KbOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Publish a temporary notice; it expires by itself at its end time."""
    notice = open_service(kb, db).notices.publish(kind, title, area, moment(starts), moment(ends), cause, restoration, body, acting(actor))
    if json_output:
        print_json(notice.to_dict())
    else:
        console.print(f"notice {notice.id} published: {notice.title} ({', '.join(notice.areas)})")


@notices_app.command("list")
@clean_errors
def notices_list(
    include_all: Annotated[bool, typer.Option("--all", help="also expired and future notices")] = False,
    kb: KbOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the active notices (or all of them)."""
    board = open_service(kb, db).notices
    notices = board.all() if include_all else board.active()
    if json_output:
        print_json([n.to_dict() for n in notices])
        return
    table = Table(title="notices")
    for column in ("id", "kind", "title", "areas", "from", "to", "state"):
        table.add_column(column)
    now = board.clock()
    for n in notices:
        state = "active" if n.active(now) else ("expired" if (n.expired_at or n.ends_at) < now else "scheduled")
        table.add_row(n.id[:8], n.kind, n.title, "、".join(n.areas), str(n.starts_at)[:16], str(n.ends_at)[:16], state)
    console.print(table)


@notices_app.command("expire")
@clean_errors
def notices_expire(notice_id: Annotated[str, typer.Argument(help="notice id (or its first characters)")], kb: KbOption = None, db: DbOption = None) -> None:
    """End a notice now (it stays on record)."""
    board = open_service(kb, db).notices
    matches = [n for n in board.all() if n.id.startswith(notice_id)]
    if len(matches) != 1:
        raise GridkbError(f"'{notice_id}' matches {len(matches)} notices")
    notice = board.expire(matches[0].id)
    console.print(f"notice {notice.id} expired at {notice.expired_at}")


@app.command()
@clean_errors
def gaps(since: SinceOption = None, kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Knowledge gaps: clusters of unresolved and badly rated questions, biggest first."""
    found = open_service(kb, db).gaps(since_moment(since))
    if json_output:
        print_json([{**g.__dict__, "queue": g.queue.value} for g in found])
        return
    table = Table(title="knowledge gaps")
    for column in ("count", "typical question", "category", "department", "queue", "last seen"):
        table.add_column(column)
    for g in found:
        table.add_row(str(g.count), g.question, g.category, g.department, g.queue.value, f"{g.last_seen:%Y-%m-%d %H:%M}")
    console.print(table)


@app.command()
@clean_errors
def metrics(since: SinceOption = None, kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Service metrics: conversations, bot resolution, transfers, tickets, SLA, satisfaction, gaps."""
    service = open_service(kb, db)
    result = service.metrics(since_moment(since))
    if json_output:
        print_json(result.to_json())
        return
    _print_metrics(result, service.taxonomy)


def _print_metrics(result: Any, taxonomy: Any) -> None:
    """The headline figures, then one small table per breakdown and the biggest knowledge gaps."""
    period = f"{display.local_time(result.since) if result.since else '全部'} 至 {display.local_time(result.until)}"
    console.print(f"服务指标（统计区间：{period}）", style="bold", highlight=False)
    table = Table(show_header=False)
    table.add_column("指标", no_wrap=True)
    table.add_column("数值", justify="right", no_wrap=True)
    rows = (
        ("会话数", display.number(result.conversations)), ("消息数", display.number(result.messages)),
        ("机器人独立解决率", display.percent(result.bot_resolution_rate)), ("转人工率", display.percent(result.transfer_rate)),
        ("转工单率", display.percent(result.ticket_rate)), ("工单数", display.number(result.tickets)),
        ("超时未办结工单", display.number(result.overdue_open_tickets)),
        ("办结时限达标率", display.percent(result.sla_resolution_compliance)),
        ("首次响应达标率", display.percent(result.sla_first_response_compliance)),
        ("首次响应时长（中位数）", display.number(result.median_first_response_minutes, "分钟")),
        ("办结时长（中位数）", display.number(result.median_resolution_hours, "小时")),
        ("评价数", display.number(result.feedback)), ("有用率（满意度）", display.percent(result.helpful_rate)),
        ("平均评分", display.number(result.mean_rating)),
    )
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    breakdowns = (
        ("工单按状态", result.tickets_by_status, lambda code: _enum_label(TicketStatus, code)),
        ("工单按来源", result.tickets_by_origin, lambda code: _enum_label(TicketOrigin, code)),
        ("工单按分类", result.tickets_by_category, lambda code: category_name(code, taxonomy)),
        ("工单按部门", result.tickets_by_department, str),
    )
    console.print(Columns([_counts_table(title, counts, name_of) for title, counts, name_of in breakdowns]))
    gaps = Table(title="主要知识缺口")
    gaps.add_column("问题", overflow="fold")
    for column in ("次数", "分类", "队列"):
        gaps.add_column(column, overflow="fold")
    for gap in result.top_gaps:
        gaps.add_row(gap["question"], str(gap["count"]), category_name(gap["category"], taxonomy), label(gap["queue"]))
    if not result.top_gaps:
        gaps.add_row(display.MISSING, "", "", "")
    console.print(gaps)


def _counts_table(title: str, counts: dict[str, int], name_of: Callable[[str], str]) -> Table:
    """A small two-column table of counts by label, largest first; "—" when there is nothing to count."""
    table = Table(title=title, show_header=False)
    table.add_column("name", overflow="fold")
    table.add_column("count", justify="right", no_wrap=True)
    for code, count in sorted(counts.items(), key=lambda item: -item[1]):
        table.add_row(name_of(code), str(count))
    if not counts:
        table.add_row("—", "")
    return table


def _enum_label(enum: Any, code: str) -> str:
    """The Chinese label of ``code`` read as a member of ``enum`` (several enums share codes like "agent")."""
    try:
        return label(enum(code))
    except ValueError:
        return label(code)
