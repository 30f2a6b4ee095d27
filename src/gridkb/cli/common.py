"""What every command shares: the command groups, the consoles, the common options, the composition
root built from the flags, and library errors turned into a one-line message."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from gridkb.config import Settings
from gridkb.errors import GridkbError
from gridkb.records import Audience

if TYPE_CHECKING:
    from gridkb.service import GridService

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
AudienceOption = Annotated[str, typer.Option("--audience", help="public (customer channel) or internal (staff: sees everything)")]


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


def open_service(kb: Path | None = None, db: str | None = None, **overrides: Any) -> GridService:
    """The composition root over the flags' knowledge base and service database (opened on first use)."""
    from gridkb.service import GridService

    return GridService(make_settings(kb, database_url=db, **overrides))


def parse_audience(value: str) -> Audience:
    try:
        return Audience(value)
    except ValueError:
        raise typer.BadParameter("--audience must be public or internal") from None


def acting(value: str) -> str:
    """Who acts: the --as flag, else the user logged in."""
    import getpass

    return value or getpass.getuser() or "cli"


def since_moment(value: str | None) -> datetime | None:
    """The start of a --since day, Beijing time."""
    from gridkb.moments import CHINA

    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=CHINA)
    except ValueError:
        raise typer.BadParameter("--since must be a date like 2026-11-24") from None


def moment(value: str) -> datetime:
    """A date and time from the command line; Beijing time unless it carries an offset."""
    from gridkb.moments import assume_china

    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date and time like 2026-11-25T09:00") from None
    return assume_china(parsed)


def print_json(data: Any) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))
