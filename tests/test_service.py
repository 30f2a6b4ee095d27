"""The composition root: what it opens when, and the library services the shells reach through it."""

import subprocess
import sys

import pytest

from gridkb.errors import FileTooLargeError, NotFoundError, ReviewRefusedError, TicketError
from gridkb.records import Role, TicketOrigin, TicketStatus
from gridkb.service import Actor, GridService, TicketAction, TicketActionKind


def test_answering_through_the_root_opens_no_database_and_loads_no_build_pipeline(built_kb, tmp_path):
    settings = built_kb[0]
    database = tmp_path / "service.sqlite"
    code = (
        "import sys; from pathlib import Path; from gridkb.config import Settings; from gridkb.service import GridService;"
        f"s = GridService(Settings(kb_dir=Path({str(settings.kb_dir)!r}), config_dir=Path({str(settings.config_dir)!r}), database_url='sqlite:///{database}'));"
        "assert s.ask('城区抢修多久能到').resolved and s.search('抢修', k=2) and s.kb_stats().documents == 5;"
        "print(sorted(m for m in ('gridkb.indexing', 'gridkb.ingest', 'chromadb', 'sqlalchemy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert not database.exists()


def test_ticket_actions_are_dispatched_and_reviews_are_for_admins(desk):
    ticket = desk.tickets.open(TicketOrigin.AGENT, "电表箱门坏了", "agent-1", category="outage")
    moved = desk.act_on_ticket(ticket.number, TicketAction(TicketActionKind.TRANSITION, status=TicketStatus.TRIAGED), Actor("agent-1", Role.AGENT))
    assert moved.status is TicketStatus.TRIAGED and moved.events[-1].actor == "agent-1"
    noted = desk.act_on_ticket(ticket.number, TicketAction(TicketActionKind.NOTE, note="已电话联系"), Actor("agent-1", Role.AGENT))
    assert noted.events[-1].action == "note"
    with pytest.raises(ReviewRefusedError):
        desk.act_on_ticket(ticket.number, TicketAction(TicketActionKind.APPROVE), Actor("agent-1", Role.AGENT))
    with pytest.raises(TicketError):  # an admin may review, but there is no answer waiting for approval
        desk.act_on_ticket(ticket.number, TicketAction(TicketActionKind.APPROVE), Actor("admin", Role.ADMIN))


def test_an_upload_over_the_size_limit_is_refused_before_anything_is_saved(desk):
    settings = desk.settings.model_copy(update={"max_file_mb": 0.001})
    service = GridService(settings, store=desk.store, clock=desk.clock)
    with pytest.raises(FileTooLargeError):
        service.upload_documents([("停电通知.md", "停电".encode() * 1000)], "admin")
    assert not settings.uploads_path.exists()
    with pytest.raises(NotFoundError):
        service.upload_job("0" * 32)
