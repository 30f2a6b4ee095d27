"""Building and reading the knowledge base: ingest, kb stats and report, search, ask, recommend, eval."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from gridkb.cli.common import (
    AudienceOption, DbOption, JsonOption, KbOption, app, clean_errors, parse_audience, console, err_console, kb_app, open_service,
)
from gridkb.config import EmbeddingBackend, IngestExecutor
from gridkb.labels import label
from gridkb.records import IngestReport


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
    executor: Annotated[IngestExecutor | None, typer.Option(help="where parsing and embedding run [env GRIDKB_INGEST_EXECUTOR, default processes]")] = None,
    workers: Annotated[int | None, typer.Option(min=0, help="worker processes on this host [env GRIDKB_INGEST_WORKERS, default one per core]")] = None,
    json_output: JsonOption = False,
) -> None:
    """Ingest documents into the knowledge base (incremental: unchanged files are skipped)."""
    service = open_service(kb, embedding_backend=backend, ingest_executor=executor, ingest_workers=workers)
    if json_output:
        report = service.ingest(paths)
    elif not sys.stderr.isatty():  # a log file (make serve > log): plain lines instead of a bar
        report = service.ingest(paths, _LineProgress())
    else:
        columns = (TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err_console, transient=True) as bar:
            report = service.ingest(paths, _RichProgress(bar))
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


_STATS_NAMES = {
    "documents": "文件", "chunks": "段落", "faqs": "问答条目", "terms": "术语", "entities": "实体", "graph_nodes": "图谱节点",
    "graph_edges": "图谱边", "duplicate_groups": "重复组", "conflicts": "冲突", "generation": "版本", "created": "生成时间",
    "embedder": "向量模型", "vector_store": "向量库",
}
_STATS_NOTE = (
    "术语：文件中下了定义的词（标准“术语和定义”条款的每一条，以及“X是指……”句）。\n"
    "实体：词典中的业务对象和从正文发现的概念，即知识图谱中的节点。"
)


@kb_app.command("stats")
@clean_errors
def kb_stats(kb: KbOption = None, json_output: JsonOption = False) -> None:
    """Print the summary of a built knowledge base."""
    stats = open_service(kb).kb_stats()
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
    hits = open_service(kb).search(query, k=k, category=category, audience=parse_audience(audience))
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


def _highlighted(snippet: str, spans: Any) -> Text:
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
    answer = open_service(kb).ask(question, audience=parse_audience(audience))
    if json_output:
        console.print_json(json.dumps(answer.to_json(), ensure_ascii=False))
        return
    console.print(answer.answer, markup=False, highlight=False)
    if answer.resolved:
        state = "resolved"
    elif answer.reason == "clarify":
        state = "not resolved: ask which of the options the customer means"
    elif answer.reason == "outside_service_area":
        state = f"not resolved ({label(answer.reason)}): the local utility answers it"
    else:
        state = f"not resolved ({label(answer.reason)}): transfer to an agent or create a ticket"
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
    found = open_service(kb, db).recommend(question, k=k, audience=parse_audience(audience))
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
def kb_report(kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Category coverage (thin categories), duplicate groups and conflicts (with the admins' rulings), for knowledge operators."""
    report = open_service(kb, db).kb_report()
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
    evaluation = open_service(kb).evaluate(
        lambda message: err_console.print(f"[dim]{message}[/dim]"),
        dataset=dataset, split=split, limit=limit, baseline=baseline, external_dir=external_dir, reports_dir=reports,
    )
    if json_output:
        console.print_json(json.dumps(dataclasses.asdict(evaluation.run), ensure_ascii=False))
    else:
        console.print(evaluation.markdown, markup=False, highlight=False)
        err_console.print(f"report written to {evaluation.report}")
