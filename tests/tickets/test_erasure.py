"""Erasure of a customer's data on request (by phone, session or ticket) and the retention run, over
the real service database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from gridkb.errors import CustomerRecordNotFoundError, InvalidIdentifierError
from gridkb.records import TicketOrigin, TicketStatus, transcript_of
from gridkb.service import GridService
from gridkb.tickets.erasure import ERASED, EXPIRED, CustomerIdentifier, ErasureKind, phone_matcher

PHONE = "13912345678"
OTHER_PHONE = "13787654321"


@pytest.fixture()
def service(built_kb, tmp_path, clock, database_url, monkeypatch):
    """A desk over the session knowledge base (its query cache untouched) and a fresh database."""
    settings, _, _ = built_kb
    settings = settings.model_copy(update={"database_url": database_url, "published_dir": tmp_path / "published"})
    desk = GridService(settings, clock=clock)
    monkeypatch.setattr(desk.live, "forget_queries", lambda: 7)
    return desk


def plant(desk: GridService, phone: str, place: str) -> tuple[str, str]:
    """A customer who chats, rates a reply, is handed to an agent who calls back: (session, ticket)."""
    first = desk.chat(None, f"{place}停电了，我的电话是 {phone[:3]}-{phone[3:7]}-{phone[7:]}")
    desk.chat(first.session_id, "什么时候来电")
    desk.feedback(first.session_id, first.message_id, helpful=False, comment="太慢了")
    transcript = transcript_of(desk.store.messages(first.session_id))
    ticket = desk.tickets.open(
        TicketOrigin.HANDOFF, f"{place}停电", "bot", channel="widget", transcript=transcript, session_id=first.session_id, contact=phone,
    )
    desk.tickets.add_contact(ticket.number, "customer", address=f"{place}3栋")
    desk.tickets.note(ticket.number, "agent-7", f"已致电{phone}，核对{place}地址")
    return first.session_id, ticket.number


def tickets_of(desk: GridService, session: str) -> set[str]:
    return {t.number for t in desk.store.tickets() if t.session_id == session}


def assert_erased(desk: GridService, session: str, number: str, place: str) -> None:
    assert desk.store.messages(session) == []
    assert desk.store.session_channel(session) is None
    assert all(f.session_id != session for f in desk.store.feedback_since(None))
    ticket = desk.tickets.get(number)
    assert (ticket.question, ticket.contact, ticket.address, ticket.transcript, ticket.session_id) == (ERASED, ERASED, ERASED, (), None)
    assert ticket.status is TicketStatus.CLOSED and ticket.events[-1].action == "erased"
    assert place not in repr(ticket) and PHONE not in repr(ticket)
    assert ticket.category and ticket.department and ticket.created_at  # kept for the statistics


def test_identifiers_are_checked_and_made_canonical():
    assert CustomerIdentifier.parse("phone", "+86 139-1234-5678").value == PHONE
    assert CustomerIdentifier.parse("phone", "0755-12345678").value == "075512345678"
    assert CustomerIdentifier.parse("ticket", "gd20261124-000001").value == "GD20261124-000001"
    for kind, value in (("phone", "12345"), ("session", "abc"), ("ticket", "20261124-1")):
        with pytest.raises(InvalidIdentifierError):
            CustomerIdentifier.parse(kind, value)


def test_a_phone_is_found_however_it_was_written():
    matches = phone_matcher(PHONE)
    for text in (f"电话{PHONE}。", "139-1234-5678", "139 1234 5678", "１３９１２３４５６７８", f"+86{PHONE}", "（139）1234 5678"):
        assert matches(text), text
    for text in (f"9{PHONE}", f"{PHONE}0", "139****5678", OTHER_PHONE, ""):
        assert not matches(text), text


def test_erasure_by_phone_removes_the_customer_and_keeps_the_others(service):
    session, number = plant(service, PHONE, "槐树湾")
    other_session, other_number = plant(service, OTHER_PHONE, "柳林街")
    theirs, messages = tickets_of(service, session), len(service.store.messages(session))
    assert number in theirs and len(theirs) == 2  # the outage report opened one, the handoff another
    result = service.erasure.erase(CustomerIdentifier.parse(ErasureKind.PHONE, "139 1234 5678"), "admin-1")
    assert_erased(service, session, number, "槐树湾")
    assert (result.sessions, result.messages, result.feedback, set(result.tickets)) == (1, messages, 1, theirs)
    assert result.query_cache == 7 and result.complete
    assert all(service.tickets.get(n).question == ERASED for n in theirs)
    assert service.tickets.get(other_number).contact == OTHER_PHONE and len(service.store.messages(other_session)) == messages
    logged = service.erasure.log()
    assert [e.kind for e in logged] == ["phone"] and set(logged[0].tickets) == theirs and PHONE not in repr(logged)


def test_erasure_by_session_or_ticket_takes_the_whole_conversation(service):
    session, number = plant(service, PHONE, "槐树湾")
    other_session, other_number = plant(service, OTHER_PHONE, "柳林街")
    service.erasure.erase(CustomerIdentifier.parse("session", session), "admin-1")
    assert_erased(service, session, number, "槐树湾")
    service.erasure.erase(CustomerIdentifier.parse("ticket", other_number), "admin-1")
    assert service.store.messages(other_session) == [] and service.tickets.get(other_number).question == ERASED
    with pytest.raises(CustomerRecordNotFoundError):
        service.erasure.erase(CustomerIdentifier.parse("session", session), "admin-1")  # already gone
    with pytest.raises(CustomerRecordNotFoundError):
        service.erasure.erase(CustomerIdentifier.parse("ticket", "GD20200101-000001"), "admin-1")


def test_retention_deletes_old_conversations_and_blanks_long_finished_tickets(service, clock):
    old_session, finished = plant(service, PHONE, "槐树湾")
    _, still_open = plant(service, OTHER_PHONE, "柳林街")
    service.tickets.assign(finished, "agent-7", "lead")
    service.tickets.transition(finished, TicketStatus.IN_PROGRESS, "agent-7")
    service.tickets.resolve(finished, "已恢复供电", "agent-7")
    clock.advance(days=400)
    recent = service.chat(None, "电费怎么交").session_id
    assert service.erasure.apply_retention(0) is None  # 0 keeps everything
    result = service.erasure.apply_retention(365)
    assert result is not None and result.kind == "retention" and result.tickets == (finished,)
    assert service.store.messages(old_session) == [] and len(service.store.messages(recent)) == 2
    blanked = service.tickets.get(finished)
    assert (blanked.question, blanked.contact, blanked.resolution, blanked.status) == (EXPIRED, EXPIRED, EXPIRED, TicketStatus.RESOLVED)
    kept = service.tickets.get(still_open)
    assert kept.contact == OTHER_PHONE and kept.transcript  # open work keeps its data
    assert service.erasure.apply_retention(365) is None  # nothing left to do


def test_the_cli_erases_by_ticket_and_refuses_unclear_requests(desk, tmp_path):
    import json

    from typer.testing import CliRunner

    from gridkb.cli import app

    session, number = plant(desk, PHONE, "槐树湾")
    url = desk.settings.service_database_url
    common = ["--kb", str(tmp_path / "kb"), "--db", url]  # an empty kb folder: no query cache to empty
    runner = CliRunner()
    both = runner.invoke(app, ["erase", "--phone", PHONE, "--ticket", number, *common])
    assert both.exit_code == 2 and "exactly one" in both.output
    wrong = runner.invoke(app, ["erase", "--phone", "12345", *common])
    assert wrong.exit_code == 2 and "电话号码格式不正确" in wrong.output
    done = runner.invoke(app, ["erase", "--ticket", number, "--as", "admin-1", "--json", *common])
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert number in result["tickets"] and result["sessions"] == 1 and result["actor"] == "admin-1" and result["complete"]
    assert desk.tickets.get(number).question == ERASED and desk.store.messages(session) == []
    kept = runner.invoke(app, ["retention", "--days", "0", *common])
    assert kept.exit_code == 0 and "everything is kept" in kept.output
