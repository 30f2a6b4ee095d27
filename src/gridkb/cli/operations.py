"""Running the service: API keys, backup and restore, customers' personal data, the HTTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gridkb.cli.common import (
    ActorOption, DbOption, JsonOption, KbOption, acting, app, clean_errors, console, err_console, keys_app, make_settings, open_service,
    print_json,
)
from gridkb.cli.tickets import ticket_number
from gridkb.errors import GridkbError
from gridkb.records import Erasure, Role


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
    if role not in ("agent", "admin"):
        raise GridkbError("role must be agent or admin")
    key, key_id = open_service(kb, db).keys.create(name, Role(role), department)
    console.print(f"key {key_id} for {name} ({role}{', ' + department if department else ''}): {key}")


@keys_app.command("list")
@clean_errors
def keys_list(kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Every agent and admin key with its state (never the key itself)."""
    keys = open_service(kb, db).keys.listing()
    if json_output:
        print_json([k.to_dict() | {"role": k.role.value} for k in keys])
        return
    table = Table(title="API keys")
    for column in ("id", "name", "role", "department", "created", "revoked"):
        table.add_column(column)
    for k in keys:
        table.add_row(k.id, k.name, k.role.value, k.department, str(k.created_at)[:16], str(k.revoked_at or "")[:16])
    console.print(table)


@keys_app.command("revoke")
@clean_errors
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id from 'gridkb keys list'")], kb: KbOption = None, db: DbOption = None) -> None:
    """Revoke a key: every worker refuses it from the next request on."""
    if not open_service(kb, db).keys.revoke(key_id):
        raise GridkbError(f"no live key with id '{key_id}'")
    console.print(f"key {key_id} revoked")


BackupDirArgument = Annotated[Path, typer.Argument(help="the backup folder")]


@app.command()
@clean_errors
def backup(directory: BackupDirArgument, kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Back up the service database and the served knowledge base into a new folder (the service may keep running)."""
    report = open_service(kb, db).backup(directory)
    if json_output:
        print_json(report.to_dict())
        return
    tickets = "" if report.tickets is None else f", {report.tickets} tickets"
    console.print(f"backup {directory}: {report.database} database{tickets}, generation {report.generation or '(none)'}, "
                  f"{report.files} files, {report.bytes / 1e6:.1f} MB in {report.seconds:.1f}s; integrity checked")


@app.command()
@clean_errors
def restore(directory: BackupDirArgument, kb: KbOption = None, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Restore a backup made by 'gridkb backup' (stop the server first; what it replaces is kept aside)."""
    report = open_service(kb, db).restore(directory)
    if json_output:
        print_json(report.to_dict())
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
    given = [(kind, value) for kind, value in (("phone", phone), ("session", session), ("ticket", ticket)) if value]
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --phone, --session, --ticket")
    service = open_service(kb, db)
    kind, value = given[0]
    value = ticket_number(value, service.clock()) if kind == "ticket" else value
    _print_erasure(service.erase(kind, value, acting(actor)), json_output)


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
    service = open_service(kb, db, transcript_retention_days=days)
    settings = service.settings
    result = service.apply_retention(settings.transcript_retention_days)
    if result is None:
        console.print("retention: nothing older than the retention period" if settings.transcript_retention_days else "retention: 0 days, everything is kept")
        return
    _print_erasure(result, json_output)


def _print_erasure(result: Erasure, json_output: bool) -> None:
    if json_output:
        print_json(result.to_dict())
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
