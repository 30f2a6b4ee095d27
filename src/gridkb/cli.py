"""The ``gridkb`` command line: parse arguments, make one library call, print the result.

Library errors (GridkbError) become a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gridkb.config import EmbeddingBackend, Settings
from gridkb.errors import GridkbError
from gridkb.records import IngestReport

app = typer.Typer(help="gridkb: knowledge base and customer-service bot for a power-grid utility.", no_args_is_help=True)
kb_app = typer.Typer(help="Inspect a built knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
notices_app = typer.Typer(help="Temporary notices: planned outages, tariff changes.", no_args_is_help=True)
app.add_typer(notices_app, name="notices")
tickets_app = typer.Typer(help="Tickets (工单): queue, lifecycle, publication of answers.", no_args_is_help=True)
app.add_typer(tickets_app, name="tickets")
keys_app = typer.Typer(help="Agent and admin keys of the HTTP API.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

KbOption = Annotated[Path | None, typer.Option("--kb", help="knowledge-base directory [env GRIDKB_KB_DIR, default kb/build]")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON for machines")]
DbOption = Annotated[
    str | None, typer.Option("--db", help="service database URL [env GRIDKB_DATABASE_URL, default SQLite beside the knowledge base]")
]
ActorOption = Annotated[str, typer.Option("--as", help="who is acting, for the ticket history [env USER]")]
SinceOption = Annotated[str | None, typer.Option("--since", help="only since this date (YYYY-MM-DD, Beijing time)")]


def clean_errors(func: F) -> F:
    """Turn library errors into a message on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GridkbError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def make_settings(kb: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, with CLI flags taking precedence."""
    values = {k: v for k, v in {"kb_dir": kb, **overrides}.items() if v is not None}
    return Settings(**values)


class _RichProgress:
    """Adapts the pipeline's progress protocol to a rich progress bar."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, Any] = {}

    def start(self, stage: str, total: int) -> None:
        self._tasks[stage] = self._progress.add_task(stage, total=total)

    def advance(self, stage: str, amount: int = 1) -> None:
        self._progress.advance(self._tasks[stage], amount)


class _LineProgress:
    """Plain progress lines on stderr for a log (no terminal to draw a bar on): one when a stage starts,
    every ``every`` items, and when it ends."""

    def __init__(self, every: int = 200) -> None:
        self._every = every
        self._state: dict[str, tuple[int, int, float]] = {}  # stage → (done, total, started)

    def start(self, stage: str, total: int) -> None:
        self._state[stage] = (0, total, time.perf_counter())
        print(f"ingest: {stage} 0/{total}", file=sys.stderr, flush=True)

    def advance(self, stage: str, amount: int = 1) -> None:
        done, total, started = self._state[stage]
        self._state[stage] = (done + amount, total, started)
        if done + amount >= total:
            print(f"ingest: {stage} {done + amount}/{total} done in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
        elif (done + amount) // self._every > done // self._every:
            print(f"ingest: {stage} {done + amount}/{total}", file=sys.stderr, flush=True)


@app.command()
@clean_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders to ingest")],
    kb: KbOption = None,
    backend: Annotated[EmbeddingBackend | None, typer.Option(help="embedding backend [env GRIDKB_EMBEDDING_BACKEND]")] = None,
    json_output: JsonOption = False,
) -> None:
    """Ingest documents into the knowledge base (incremental: unchanged files are skipped)."""
    from gridkb.ingest import ingest as run_ingest

    settings = make_settings(kb, embedding_backend=backend)
    if settings.published_path.is_dir() and settings.published_path.resolve() not in {p.resolve() for p in paths}:
        paths = [*paths, settings.published_path]  # answers published from tickets survive a rebuild
    if json_output:
        report = run_ingest(paths, settings)
    elif not sys.stderr.isatty():  # a log file (make serve > log): plain lines instead of a bar
        report = run_ingest(paths, settings, _LineProgress())
    else:
        columns = (TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err_console, transient=True) as bar:
            report = run_ingest(paths, settings, _RichProgress(bar))
    if json_output:
        console.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _print_ingest_report(report)
    if report.failed and not (report.documents):
        raise typer.Exit(1)


def _print_ingest_report(report: IngestReport) -> None:
    table = Table(title=f"ingest → generation {report.generation}", show_header=False)
    for key in ("documents", "chunks", "faqs", "terms", "entities", "graph_nodes", "graph_edges"):
        table.add_row(key.replace("_", " "), str(getattr(report, key)))
    table.add_row("added / updated / removed", f"{len(report.added)} / {len(report.updated)} / {len(report.removed)}")
    table.add_row("unchanged", str(report.unchanged))
    if report.moved:  # same content under a new key (a renamed or re-mounted folder)
        table.add_row("moved", str(len(report.moved)))
    table.add_row("embedded (new texts)", str(report.embedded))
    table.add_row("time", ", ".join(f"{k} {v:.2f}s" for k, v in report.seconds.items()))
    console.print(table)
    for title, items in (("skipped", report.skipped), ("failed", report.failed)):
        for failure in items:
            console.print(f"[yellow]{title}:[/yellow] {failure.path}: {failure.reason}")


@kb_app.command("stats")
@clean_errors
def kb_stats(kb: KbOption = None, json_output: JsonOption = False) -> None:
    """Print the summary of a built knowledge base."""
    from gridkb.kb import KnowledgeBase

    stats = KnowledgeBase(make_settings(kb)).stats()
    if json_output:
        console.print_json(json.dumps(stats.to_dict(), ensure_ascii=False))
        return
    table = Table(title="知识库", show_header=False)
    table.add_column("item", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in stats.to_dict().items():
        table.add_row(_STATS_NAMES.get(key, key.replace("_", " ")), str(value))
    console.print(table)
    console.print(_STATS_NOTE, style="dim", highlight=False)


_STATS_NAMES = {
    "documents": "文件", "chunks": "段落", "faqs": "问答条目", "terms": "术语", "entities": "实体", "graph_nodes": "图谱节点",
    "graph_edges": "图谱边", "duplicate_groups": "重复组", "conflicts": "冲突", "generation": "版本", "created": "生成时间",
    "embedder": "向量模型", "vector_store": "向量库",
}
_STATS_NOTE = (
    "术语：文件中下了定义的词（标准“术语和定义”条款的每一条，以及“X是指……”句）。\n"
    "实体：词典中的业务对象和从正文发现的概念，即知识图谱中的节点。"
)


AudienceOption = Annotated[str, typer.Option("--audience", help="public (customer channel) or internal (staff: sees everything)")]


def _audience(value: str):  # type: ignore[no-untyped-def]
    from gridkb.records import Audience

    try:
        return Audience(value)
    except ValueError:
        raise typer.BadParameter("--audience must be public or internal") from None


@app.command()
@clean_errors
def search(
    query: Annotated[str, typer.Argument(help="the search query")],
    k: Annotated[int, typer.Option("-k", help="number of results", min=1, max=100)] = 10,
    category: Annotated[str | None, typer.Option(help="only this taxonomy category, e.g. billing")] = None,
    audience: AudienceOption = "internal",
    kb: KbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Hybrid search, reranked by how well each result answers the query, with highlighted snippets and title paths."""
    from gridkb.application.qa import QuestionAnswerer
    from gridkb.kb import KnowledgeBase

    hits = QuestionAnswerer(KnowledgeBase(make_settings(kb))).search(query, k=k, category=category, audience=_audience(audience))
    if json_output:
        console.print_json(json.dumps([h.to_dict() for h in hits], ensure_ascii=False))
        return
    if not hits:
        console.print("no results")
    for i, hit in enumerate(hits, start=1):
        console.print(f"[bold]{i}. {hit.chunk.title_path[0]}[/bold] › {hit.chunk.section}  [dim]{hit.chunk.category} {hit.score:.4f}[/dim]", markup=True, highlight=False)
        console.print(_highlighted(hit.snippet, hit.highlights))
        if hit.also_in:
            console.print(f"   [dim]also in: {', '.join(hit.also_in)}[/dim]")


def _highlighted(snippet: str, spans):  # type: ignore[no-untyped-def]
    from rich.text import Text

    text = Text("   " + snippet.replace("\n", " "))
    for start, end in spans:
        text.stylize("bold yellow", start + 3, end + 3)
    return text


@app.command()
@clean_errors
def ask(
    question: Annotated[str, typer.Argument(help="the customer's question")],
    audience: AudienceOption = "internal",
    kb: KbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Answer a question with cited sources and a confidence (or say honestly that it cannot)."""
    from gridkb.application.qa import QuestionAnswerer
    from gridkb.kb import KnowledgeBase

    answer = QuestionAnswerer.from_settings(KnowledgeBase(make_settings(kb))).answer(question, audience=_audience(audience))
    if json_output:
        console.print_json(json.dumps(answer.to_json(), ensure_ascii=False))
        return
    console.print(answer.answer, markup=False, highlight=False)
    state = "resolved" if answer.resolved else "not resolved: transfer to an agent or create a ticket"
    console.print(f"\n[dim]{state} · confidence {answer.confidence:.2f} · {answer.category} · {answer.department}[/dim]")
    for i, source in enumerate(answer.sources, start=1):
        console.print(f"[dim][{i}] {source.title} › {source.section}[/dim]", highlight=False)
    for number, option in enumerate(answer.options, start=1):
        console.print(f"  {number}. {option}", markup=False, highlight=False)
    if answer.suggestions:
        console.print("猜你想问: " + " | ".join(answer.suggestions), markup=False)


@app.command()
@clean_errors
def recommend(
    question: Annotated[str, typer.Argument(help="a question or an answer")],
    k: Annotated[int, typer.Option("-k", min=1, max=50)] = 5,
    audience: AudienceOption = "internal",
    kb: KbOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Related questions (猜你想问) and popular questions of the same category (popularity from the chat logs)."""
    found = _desk(kb, db).recommend(question, k=k, audience=_audience(audience))
    if json_output:
        console.print_json(json.dumps(found.to_dict(), ensure_ascii=False))
        return
    console.print("[bold]猜你想问[/bold]")
    for r in found.related:
        console.print(f"- {r.question}", markup=False)
    console.print(f"[bold]热门问题 ({found.category})[/bold]")
    for r in found.popular:
        console.print(f"- {r.question}", markup=False)


@kb_app.command("report")
@clean_errors
def kb_report(kb: KbOption = None, json_output: JsonOption = False) -> None:
    """Category coverage (thin categories), duplicate groups and conflicts, for knowledge operators."""
    from gridkb.kb import KnowledgeBase
    from gridkb.labels import label
    from gridkb.organisation.report import build_report

    report = build_report(KnowledgeBase(make_settings(kb)))
    if json_output:
        console.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    table = Table(title="分类覆盖", caption="覆盖“偏少”：文件或段落太少的分类，需要补充知识")
    table.add_column("分类代码", no_wrap=True)
    for column in ("分类名称", "归口部门"):
        table.add_column(column, overflow="fold")
    for column in ("文件", "段落", "问答"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("覆盖", no_wrap=True)
    for c in report.coverage:
        table.add_row(c.code, c.name, c.department, str(c.documents), str(c.chunks), str(c.faqs), "[yellow]偏少[/yellow]" if c.thin else "正常")
    console.print(table)
    console.print(f"\n[bold]重复组 {len(report.duplicates)} 个[/bold]（每组第一条为保留条目）")
    for group in report.duplicates:
        canonical = " ".join(report.canonical_text.get(group.canonical, "").split())
        console.print(f"- {len(group.members)} 条，相似度 ≥ {group.similarity}：{canonical}", markup=False, highlight=False)
        console.print(f"  来源：{'，'.join(group.sources)}", markup=False, highlight=False)
    console.print(f"\n[bold]冲突 {len(report.conflicts)} 个[/bold]")
    for conflict in report.conflicts:
        state = "decided" if getattr(conflict, "decided_by", "") else "superseded" if conflict.preferred else "undecided"
        console.print(f"- {conflict.subject}：{label(state)}（{conflict.reason}）", markup=False, highlight=False)
        for st in conflict.statements:
            mark = "✔" if st.chunk_id == conflict.preferred else " "
            dates = f"有效期 {st.valid_from or '—'} 至 {st.valid_to or '—'}"
            console.print(f"  {mark} {'/'.join(st.values)}  {st.source}（{dates}）  {st.sentence}", markup=False, highlight=False)


@app.command("eval")
@clean_errors
def eval_command(
    kb: KbOption = None,
    dataset: Annotated[str, typer.Option(help="domain | cmrc | drcd | pooled")] = "domain",
    split: Annotated[str | None, typer.Option(help="dataset split (default: test; cmrc: dev)")] = None,
    limit: Annotated[int | None, typer.Option(help="evaluate a reproducible sample of N questions")] = None,
    baseline: Annotated[bool, typer.Option(help="run the LangChain peer baseline in the same run")] = True,
    external_dir: Annotated[Path, typer.Option(help="folder of the public datasets")] = Path("../shared/eval-data"),
    reports: Annotated[Path, typer.Option(help="where the Markdown report goes")] = Path("eval/reports"),
    json_output: JsonOption = False,
) -> None:
    """Evaluate retrieval and answers against a built knowledge base, side by side with the baseline."""
    import dataclasses

    from gridkb.evaluation.report import to_markdown, write_reports
    from gridkb.evaluation.runner import EvalOptions, run

    options = EvalOptions(dataset=dataset, split=split, limit=limit, baseline=baseline, external_dir=external_dir, reports_dir=reports)
    result = run(make_settings(kb), options, lambda message: err_console.print(f"[dim]{message}[/dim]"))
    path = write_reports(result, reports)
    if json_output:
        console.print_json(json.dumps(dataclasses.asdict(result), ensure_ascii=False))
    else:
        console.print(to_markdown(result), markup=False, highlight=False)
        err_console.print(f"report written to {path}")



# --- the service desk: chat, notices, tickets, gaps, metrics


def _desk(kb: Path | None, db: str | None):  # type: ignore[no-untyped-def]
    from gridkb.tickets.desk import ServiceDesk

    return ServiceDesk(make_settings(kb, database_url=db))


def _actor(value: str) -> str:
    import getpass

    return value or getpass.getuser() or "cli"


def _since(value: str | None):  # type: ignore[no-untyped-def]
    from datetime import datetime

    from gridkb.moments import CHINA

    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=CHINA)
    except ValueError:
        raise typer.BadParameter("--since must be a date like 2026-11-24") from None


def _when(value: str) -> Any:
    from datetime import datetime

    from gridkb.moments import assume_china

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date and time like 2026-11-25T09:00") from None
    return assume_china(moment)


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


HANDOFF_MESSAGE = "转人工"  # what choosing "none of these" of a clarifying question says


@app.command()
@clean_errors
def chat(kb: KbOption = None, db: DbOption = None, channel: Annotated[str, typer.Option(help="channel recorded on the session")] = "terminal") -> None:
    """Chat with the bot in the terminal (one session; /good, /bad [comment], /rate N give feedback; /quit ends)."""
    desk = _desk(kb, db)
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
            _, ticket = desk.feedback(session_id, last_message, helpful, rating, rest if command == "/bad" else "")
            console.print("[dim]感谢评价" + (f"，已创建工单 {ticket.number}" if ticket else "") + "[/dim]")
            continue
        if not line:
            continue
        if options and line.isdigit() and int(line) <= len(options):  # the number of a clarifying question's option
            line = options[int(line) - 1] if int(line) else HANDOFF_MESSAGE
            console.print(f"[dim]您：{line}[/dim]", highlight=False, markup=False)
        reply = desk.chat(session_id, line, channel=channel)
        session_id, last_message, options = reply.session_id, reply.message_id, reply.options
        console.print(f"[bold green]客服：[/bold green]{reply.answer}", highlight=False, markup=False)
        for i, source in enumerate(reply.sources, start=1):
            console.print(f"[dim]  [{i}] {source['title']} › {source['section']}[/dim]", highlight=False)
        for number, option in enumerate(reply.options, start=1):
            console.print(f"  {number}. {option}", highlight=False, markup=False)
        if reply.options:
            console.print("  0. 都不是，转人工", highlight=False, markup=False)
        elif reply.choices:  # the contact collection after a handoff: type a choice, a phone number or an address
            console.print("  可回复：" + " / ".join(reply.choices), highlight=False, markup=False)
        elif reply.suggestions:
            console.print("[dim]  猜你想问: " + " | ".join(reply.suggestions) + "[/dim]", highlight=False)
        state = "已解答" if reply.resolved else "未解决"
        ticket = f" · 工单 {reply.ticket_number}" if reply.ticket_number else ""
        console.print(f"[dim]  {state} · 置信度 {reply.confidence:.2f} · {reply.intent.value}{ticket}[/dim]", highlight=False)


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
    notice = _desk(kb, db).notices.publish(kind, title, area, _when(starts), _when(ends), cause, restoration, body, _actor(actor))
    if json_output:
        _print_json(notice.to_dict())
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
    board = _desk(kb, db).notices
    notices = board.all() if include_all else board.active()
    if json_output:
        _print_json([n.to_dict() for n in notices])
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
    board = _desk(kb, db).notices
    matches = [n for n in board.all() if n.id.startswith(notice_id)]
    if len(matches) != 1:
        raise GridkbError(f"'{notice_id}' matches {len(matches)} notices")
    notice = board.expire(matches[0].id)
    console.print(f"notice {notice.id} expired at {notice.expired_at}")


_TICKET_FIELDS = {
    "status": "状态", "origin": "来源", "priority": "优先级", "queue": "队列", "category": "分类", "department": "归口部门",
    "assignee": "处理人", "channel": "渠道", "contact": "联系方式", "question": "问题", "created_at": "创建时间",
    "first_response_due": "首次响应时限", "due_at": "办结时限", "first_responded_at": "首次响应时间",
    "resolved_at": "解决时间", "resolution": "处理结果", "publication": "知识发布",
}


def _print_ticket(ticket: Any, taxonomy: Any) -> None:
    """A ticket as an agent reads it: Chinese labels, Beijing time, the transcript, then the history as a timeline."""
    from rich.text import Text

    from gridkb import display
    from gridkb.labels import category_name, label

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
        when = display.local_time(turn.get("at"))
        console.print(Text.assemble((f"{when} {display.speaker(turn.get('role', ''))}：", "dim"), turn.get("text", "")), highlight=False)
    if ticket.events:
        console.print("\n处理记录", style="bold")
    for event in ticket.events:
        console.print(Text(_event_line(event)), highlight=False)


def _event_line(event: Any) -> str:
    """One line of a ticket's history: when, who, what (status change), details."""
    from gridkb import display
    from gridkb.labels import label

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
    from gridkb.records import Role, TicketStatus

    desk = _desk(kb, db)
    try:
        statuses = [TicketStatus(s) for s in status or ()]
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    tickets = [desk.tickets.view(t, Role.AGENT) for t in desk.tickets.queue(statuses, department, overdue=overdue, limit=limit)]
    if json_output:
        _print_json([t.to_dict() for t in tickets])
        return
    from rich.text import Text

    from gridkb import display
    from gridkb.labels import label

    from rich import box

    table = Table(title="工单队列", caption="办结时限为北京时间，红色为已超时", box=box.SIMPLE_HEAD, collapse_padding=True, show_edge=False)
    table.add_column("工单号", no_wrap=True, min_width=17)  # never cut: agents copy it
    # min_width only on the number: rich crops (loses characters) when minimum widths add up past the terminal
    for column in ("状态", "优先级", "队列", "部门", "办结时限", "问题"):
        table.add_column(column, overflow="fold", max_width=10 if column == "部门" else None)
    now = desk.clock()
    for t in tickets:
        due = Text(display.local_time(t.due_at, with_date=False), style="red" if t.breached(now) else "")
        table.add_row(t.number, label(t.status), label(t.priority), label(t.queue), t.department, due, t.question[:40])
    console.print(table)


TicketNumberArgument = Annotated[
    str, typer.Argument(help="the ticket number (GD20261202-000012) or today's serial (12 = GD<today>-000012)", show_default=False)
]


def _ticket_number(value: str, now: Any) -> str:
    """A full ticket number as given, or today's serial expanded the way the store numbers tickets (by UTC day)."""
    from datetime import timezone

    value = value.strip().upper()
    if value.isdigit() and len(value) <= 6:
        return f"GD{now.astimezone(timezone.utc):%Y%m%d}-{int(value):06d}"
    day, dash, serial = value.removeprefix("GD").partition("-")
    if len(day) == 8 and day.isdigit() and dash and serial.isdigit():
        return f"GD{day}-{int(serial):06d}"  # GD20261202-12 or 20261202-000012
    return value


def _ticket_desk(kb: Path | None, db: str | None, number: str) -> tuple[Any, str]:
    """The service desk and the full ticket number (today's serial expanded)."""
    desk = _desk(kb, db)
    return desk, _ticket_number(number, desk.clock())


@tickets_app.command("show")
@clean_errors
def tickets_show(number: TicketNumberArgument, kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """One ticket with its transcript and history. NUMBER is the full number or today's serial: `tickets show 12`."""
    from gridkb.records import Role

    desk, number = _ticket_desk(kb, db, number)
    ticket = desk.tickets.view(desk.tickets.get(number), Role.ADMIN)
    if json_output:
        _print_json(ticket.to_dict())
    else:
        _print_ticket(ticket, desk.taxonomy)


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
    from gridkb.records import TicketOrigin

    ticket = _desk(kb, db).tickets.open(TicketOrigin.AGENT, question, _actor(actor), category=category, contact=contact)
    console.print(f"ticket {ticket.number} → {ticket.department}, due {ticket.due_at:%Y-%m-%d %H:%M}")


@tickets_app.command("assign")
@clean_errors
def tickets_assign(number: TicketNumberArgument, assignee: str, note: str = "", actor: ActorOption = "", kb: KbOption = None, db: DbOption = None) -> None:
    """Assign a ticket to an agent."""
    desk, number = _ticket_desk(kb, db, number)
    ticket = desk.tickets.assign(number, assignee, _actor(actor), note)
    console.print(f"ticket {ticket.number}: {ticket.status.value}, assignee {ticket.assignee}")


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
    from gridkb.records import TicketStatus

    try:
        target = TicketStatus(status)
    except ValueError:
        raise typer.BadParameter(f"unknown status '{status}'") from None
    desk, number = _ticket_desk(kb, db, number)
    ticket = desk.tickets.transition(number, target, _actor(actor), note)
    console.print(f"ticket {ticket.number}: {ticket.status.value}")


@tickets_app.command("route")
@clean_errors
def tickets_route(number: TicketNumberArgument, department: str, note: str = "", actor: ActorOption = "", kb: KbOption = None, db: DbOption = None) -> None:
    """Send a ticket to another department (manual override of the routing)."""
    desk, number = _ticket_desk(kb, db, number)
    ticket = desk.tickets.route(number, department, _actor(actor), note)
    console.print(f"ticket {ticket.number} → {ticket.department}")


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
    desk, number = _ticket_desk(kb, db, number)
    ticket = desk.tickets.resolve(number, answer, _actor(actor), publish)
    console.print(f"ticket {ticket.number}: resolved" + (" (draft FAQ entry waits for approval)" if publish else ""))


@tickets_app.command("approve")
@clean_errors
def tickets_approve(number: TicketNumberArgument, actor: ActorOption = "", kb: KbOption = None, db: DbOption = None) -> None:
    """Approve a ticket's draft FAQ entry: it is published into the knowledge base."""
    desk, number = _ticket_desk(kb, db, number)
    ticket, report = desk.publisher.approve(number, _actor(actor))
    console.print(f"ticket {ticket.number}: published into generation {report.generation} ({report.embedded} new text embedded)")


@tickets_app.command("reject")
@clean_errors
def tickets_reject(number: TicketNumberArgument, reason: Annotated[str, typer.Option(help="why")], actor: ActorOption = "", kb: KbOption = None, db: DbOption = None) -> None:
    """Reject a ticket's draft FAQ entry."""
    desk, number = _ticket_desk(kb, db, number)
    ticket = desk.publisher.reject(number, _actor(actor), reason)
    console.print(f"ticket {ticket.number}: publication {ticket.publication.value}")


@app.command()
@clean_errors
def gaps(since: SinceOption = None, kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Knowledge gaps: clusters of unresolved and badly rated questions, biggest first."""
    found = _desk(kb, db).gaps(_since(since))
    if json_output:
        _print_json([{**g.__dict__, "queue": g.queue.value} for g in found])
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
    desk = _desk(kb, db)
    result = desk.metrics(_since(since))
    if json_output:
        _print_json(result.to_json())
        return
    _print_metrics(result, desk.taxonomy)


def _print_metrics(result: Any, taxonomy: Any) -> None:
    """The headline figures, then one small table per breakdown and the biggest knowledge gaps."""
    from gridkb import display
    from gridkb.labels import category_name, label

    from rich.columns import Columns

    from gridkb.records import TicketOrigin, TicketStatus

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
    from gridkb.labels import label

    try:
        return label(enum(code))
    except ValueError:
        return label(code)


@keys_app.command("create")
@clean_errors
def keys_create(
    name: Annotated[str, typer.Argument(help="who holds the key, e.g. agent-7")],
    role: Annotated[str, typer.Option(help="agent or admin")] = "agent",
    department: Annotated[str, typer.Option(help="an agent's department (归口部门): they may take and assign its tickets")] = "",
    kb: KbOption = None,
    db: DbOption = None,
) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    from gridkb.records import Role

    if role not in ("agent", "admin"):
        raise GridkbError("role must be agent or admin")
    key, key_id = _desk(kb, db).keys.create(name, Role(role), department)
    console.print(f"key {key_id} for {name} ({role}{', ' + department if department else ''}): {key}")


@keys_app.command("list")
@clean_errors
def keys_list(kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Every agent and admin key with its state (never the key itself)."""
    keys = _desk(kb, db).keys.listing()
    if json_output:
        _print_json(keys)
        return
    table = Table(title="API keys")
    for column in ("id", "name", "role", "department", "created", "revoked"):
        table.add_column(column)
    for k in keys:
        table.add_row(k["id"], k["name"], k["role"], k["department"], str(k["created_at"])[:16], str(k["revoked_at"] or "")[:16])
    console.print(table)


@keys_app.command("revoke")
@clean_errors
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id from 'gridkb keys list'")], kb: KbOption = None, db: DbOption = None) -> None:
    """Revoke a key: every worker refuses it from the next request on."""
    if not _desk(kb, db).keys.revoke(key_id):
        raise GridkbError(f"no live key with id '{key_id}'")
    console.print(f"key {key_id} revoked")


BackupDirArgument = Annotated[Path, typer.Argument(help="the backup folder")]


@app.command()
@clean_errors
def backup(directory: BackupDirArgument, kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Back up the service database and the served knowledge base into a new folder (the service may keep running)."""
    from gridkb.storage.backup import backup as run_backup

    report = run_backup(make_settings(kb, database_url=db), directory)
    if json_output:
        _print_json(report.to_dict())
        return
    tickets = "" if report.tickets is None else f", {report.tickets} tickets"
    console.print(f"backup {directory}: {report.database} database{tickets}, generation {report.generation or '(none)'}, "
                  f"{report.files} files, {report.bytes / 1e6:.1f} MB in {report.seconds:.1f}s; integrity checked")


@app.command()
@clean_errors
def restore(directory: BackupDirArgument, kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Restore a backup made by 'gridkb backup' (stop the server first; what it replaces is kept aside)."""
    from gridkb.storage.backup import restore as run_restore

    report = run_restore(make_settings(kb, database_url=db), directory)
    if json_output:
        _print_json(report.to_dict())
    else:
        console.print(f"restored {report.database} database and generation {report.generation or '(none)'} from {directory}")
        for path in report.kept_aside:
            console.print(f"  the replaced database is kept at {path}")
    if report.problems:
        raise GridkbError(f"the restored copy failed its checks: {'; '.join(report.problems[:5])}")


# --- customers' personal data: erasure on request, retention


@app.command()
@clean_errors
def erase(
    phone: Annotated[str | None, typer.Option(help="the customer's phone number, however written")] = None,
    session: Annotated[str | None, typer.Option(help="a chat session id")] = None,
    ticket: Annotated[str | None, typer.Option(help="a ticket number (or today's serial)")] = None,
    actor: ActorOption = "",
    kb: KbOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Delete a customer's personal data on request: their chat sessions, messages and feedback; their
    tickets keep number, status, category and dates. Give exactly one of --phone, --session, --ticket."""
    from gridkb.tickets.erasure import CustomerIdentifier

    given = [(kind, value) for kind, value in (("phone", phone), ("session", session), ("ticket", ticket)) if value]
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --phone, --session, --ticket")
    desk = _desk(kb, db)
    kind, value = given[0]
    value = _ticket_number(value, desk.clock()) if kind == "ticket" else value
    _print_erasure(desk.erasure.erase(CustomerIdentifier.parse(kind, value), _actor(actor)), json_output)


@app.command()
@clean_errors
def retention(
    days: Annotated[int | None, typer.Option(help="retention period [env GRIDKB_TRANSCRIPT_RETENTION_DAYS, default 365]; 0 keeps everything", min=0)] = None,
    kb: KbOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Delete chat conversations idle longer than the retention period and blank the personal fields of
    tickets finished longer ago (the server does it at start and every 6 hours; this is for a cron job)."""
    from gridkb.tickets.desk import ServiceDesk

    settings = make_settings(kb, database_url=db, transcript_retention_days=days)
    result = ServiceDesk(settings).erasure.apply_retention(settings.transcript_retention_days)
    if result is None:
        console.print("retention: nothing older than the retention period" if settings.transcript_retention_days else "retention: 0 days, everything is kept")
        return
    _print_erasure(result, json_output)


def _print_erasure(result: Any, json_output: bool) -> None:
    if json_output:
        _print_json(result.to_dict())
        return
    tickets = f" ({', '.join(result.tickets)})" if result.tickets else ""
    console.print(
        f"{result.kind}: deleted {result.sessions} sessions, {result.messages} messages, {result.feedback} feedback; "
        f"blanked {len(result.tickets)} tickets{tickets}; dropped {result.query_cache} query-cache entries"
    )
    if not result.complete:
        err_console.print("[yellow]warning:[/yellow] readers kept the write-ahead log busy: the next checkpoint removes the deleted bytes")


@app.command()
@clean_errors
def serve(
    kb: KbOption = None,
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes (they share the database, nothing else)", min=1, max=32)] = 1,
) -> None:
    """Serve the chat widget, the agent console, the demo page and the HTTP API."""
    from gridkb.api.server import serve as run_server

    run_server(make_settings(kb, database_url=db), host, port, workers)


if __name__ == "__main__":
    app()
