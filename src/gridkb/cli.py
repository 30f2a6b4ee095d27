"""The ``gridkb`` command line: parse arguments, make one library call, print the result.

Library errors (GridkbError) become a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
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

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

KbOption = Annotated[Path | None, typer.Option("--kb", help="knowledge-base directory [env GRIDKB_KB_DIR, default kb/build]")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON for machines")]


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
    columns = (TextColumn("{task.description:>6}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True, disable=json_output or not sys.stderr.isatty()) as bar:
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
    table = Table(title="knowledge base", show_header=False)
    for key, value in stats.to_dict().items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


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
    """Hybrid search with highlighted snippets and title paths."""
    from gridkb.application.search import Searcher
    from gridkb.kb import KnowledgeBase

    hits = Searcher(KnowledgeBase(make_settings(kb))).search(query, k=k, category=category, audience=_audience(audience))
    if json_output:
        rows = [
            {"title": h.chunk.title_path[0], "section": h.chunk.section, "snippet": h.snippet, "highlights": h.highlights,
             "score": h.score, "category": h.chunk.category, "source": h.chunk.source, "also_in": h.also_in, "ranks": h.ranks}
            for h in hits
        ]
        console.print_json(json.dumps(rows, ensure_ascii=False))
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
    if answer.suggestions:
        console.print("猜你想问: " + " | ".join(answer.suggestions), markup=False)


@app.command()
@clean_errors
def recommend(
    question: Annotated[str, typer.Argument(help="a question or an answer")],
    k: Annotated[int, typer.Option("-k", min=1, max=50)] = 5,
    audience: AudienceOption = "internal",
    kb: KbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Related questions (猜你想问) and popular questions of the same category."""
    from gridkb.application.recommend import Recommender
    from gridkb.kb import KnowledgeBase

    knowledge = KnowledgeBase(make_settings(kb))
    recommender = Recommender(knowledge)
    related = recommender.related_questions(question, k=k, audience=_audience(audience))
    category = knowledge.classify_question(question).category
    popular = recommender.popular_questions(category if category != "unknown" else None, k=k, audience=_audience(audience))
    if json_output:
        payload = {"related": [r.question for r in related], "category": category, "popular": [r.question for r in popular]}
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    console.print("[bold]猜你想问[/bold]")
    for r in related:
        console.print(f"- {r.question}", markup=False)
    console.print(f"[bold]热门问题 ({category})[/bold]")
    for r in popular:
        console.print(f"- {r.question}", markup=False)


@kb_app.command("report")
@clean_errors
def kb_report(kb: KbOption = None, json_output: JsonOption = False) -> None:
    """Category coverage (thin categories), duplicate groups and conflicts, for knowledge operators."""
    from gridkb.kb import KnowledgeBase
    from gridkb.organisation.report import build_report

    report = build_report(KnowledgeBase(make_settings(kb)))
    if json_output:
        console.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    table = Table(title="category coverage")
    for column in ("category", "name", "department", "documents", "chunks", "FAQs", ""):
        table.add_column(column)
    for c in report.coverage:
        table.add_row(c.code, c.name, c.department, str(c.documents), str(c.chunks), str(c.faqs), "[yellow]thin[/yellow]" if c.thin else "")
    console.print(table)
    console.print(f"\n[bold]{len(report.duplicates)} duplicate groups[/bold] (canonical first)")
    for group in report.duplicates:
        console.print(f"- {len(group.members)} items, similarity ≥ {group.similarity}: {report.canonical_text.get(group.canonical, '')!r}")
        console.print(f"  sources: {', '.join(group.sources)}", markup=False)
    console.print(f"\n[bold]{len(report.conflicts)} conflicts[/bold]")
    for conflict in report.conflicts:
        console.print(f"- {conflict.subject}: {conflict.reason}", markup=False)
        for st in conflict.statements:
            mark = "✔" if st.chunk_id == conflict.preferred else " "
            dates = f"{st.valid_from or '…'} – {st.valid_to or '…'}"
            console.print(f"  {mark} {'/'.join(st.values)}  {st.source} [{dates}]  {st.sentence}", markup=False)


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


if __name__ == "__main__":
    app()
