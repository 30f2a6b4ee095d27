"""The service database against both backends (SQLite file, PostgreSQL): the same contract."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from gridkb.errors import ConcurrentUpdateError
from gridkb.records import ChatMessage, Citation, Notice, Priority, Queue, Ticket, TicketEvent, TicketOrigin, TicketStatus, TranscriptTurn
from gridkb.storage.service_db import ServiceStore

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def _ticket(**changes) -> Ticket:
    base = dict(
        channel="widget", origin=TicketOrigin.ABSTAINED, question="低保户有电费补贴吗", category="billing", department="电费核算中心",
        queue=Queue.KNOWLEDGE, priority=Priority.NORMAL, status=TicketStatus.NEW, created_at=NOW,
        first_response_due=NOW + timedelta(hours=24), due_at=NOW + timedelta(days=3),
        transcript=(TranscriptTurn("user", "低保户有电费补贴吗", NOW.isoformat()),),
    )
    return Ticket(**{**base, **changes})


@pytest.fixture()
def store(database_url):
    store = ServiceStore(database_url)
    yield store
    store.close()


def test_sessions_keep_their_messages_in_order(store):
    session = store.create_session("widget", NOW)
    for i, text in enumerate(["你好", "电费怎么交", "谢谢"]):
        store.add_message(ChatMessage(session, "user", text, NOW + timedelta(seconds=i), intent="question"))
    store.add_message(ChatMessage(session, "bot", "答", NOW + timedelta(seconds=9), sources=(Citation("t", "s", "x", 0.5, chunk_id="c1"),)))
    messages = store.messages(session)
    assert [m.text for m in messages] == ["你好", "电费怎么交", "谢谢", "答"]
    assert messages[-1].sources == (Citation("t", "s", "x", 0.5, chunk_id="c1"),) and messages[0].created_at.tzinfo is not None
    assert store.session_channel(session) == "widget" and store.session_channel("nope") is None


def test_answers_per_chunk_counts_resolved_answers_by_their_first_source(store):
    session = store.create_session("widget", NOW)
    cite = lambda chunk: Citation("t", "s", "x", 0.5, chunk_id=chunk)  # noqa: E731
    for at, resolved, sources in [
        (NOW, True, (cite("a"), cite("b"))),
        (NOW + timedelta(seconds=1), True, (cite("a"),)),
        (NOW + timedelta(seconds=2), True, (cite("b"), cite("a"))),
        (NOW + timedelta(seconds=3), False, (cite("c"),)),  # declined: not an answer with it
        (NOW + timedelta(seconds=4), True, ()),  # greeting: no source
        (NOW - timedelta(days=40), True, (cite("old"),)),  # before the window
    ]:
        store.add_message(ChatMessage(session, "bot", "答", at, resolved=resolved, sources=sources))
    store.add_message(ChatMessage(session, "user", "问", NOW, sources=(cite("u"),)))
    assert store.answers_per_chunk(NOW - timedelta(days=30)) == {"a": 2, "b": 1}


def test_ticket_numbers_are_unique_per_day_even_from_many_writers(store):
    with ThreadPoolExecutor(4) as pool:
        numbers = list(pool.map(lambda _: store.insert_ticket(_ticket(), TicketEvent(NOW, "bot", "created")).number, range(12)))
    assert len(set(numbers)) == 12
    assert sorted(numbers) == [f"GD20261124-{i:06d}" for i in range(1, 13)]
    next_day = store.insert_ticket(_ticket(created_at=NOW + timedelta(days=1)), TicketEvent(NOW, "bot", "created"))
    assert next_day.number == "GD20261125-000001"


def test_ticket_updates_append_history_and_refuse_stale_writes(store):
    ticket = store.insert_ticket(_ticket(), TicketEvent(NOW, "bot", "created", "", "new"))
    from dataclasses import replace

    triaged = store.update_ticket(replace(ticket, status=TicketStatus.TRIAGED), TicketEvent(NOW, "agent-1", "transition", "new", "triaged"), TicketStatus.NEW)
    assert [e.action for e in triaged.events] == ["created", "transition"]
    with pytest.raises(ConcurrentUpdateError):  # someone else already moved it on
        store.update_ticket(replace(ticket, status=TicketStatus.ASSIGNED), TicketEvent(NOW, "agent-2", "assigned"), TicketStatus.NEW)
    assert store.ticket(ticket.number).status is TicketStatus.TRIAGED
    overdue = store.tickets(overdue_at=NOW + timedelta(days=4))
    assert [t.number for t in overdue] == [ticket.number]
    assert store.tickets(status=[TicketStatus.CLOSED]) == []


def test_notices_in_force_and_expired(store):
    notice = store.add_notice(Notice("planned_outage", "人民路检修停电", ("人民路",), NOW, NOW + timedelta(hours=8), created_at=NOW))
    assert [n.id for n in store.notices(active_at=NOW + timedelta(hours=1))] == [notice.id]
    assert store.notices(active_at=NOW + timedelta(hours=9)) == []
    store.expire_notice(notice.id, NOW + timedelta(hours=2))
    assert store.notices(active_at=NOW + timedelta(hours=3)) == []
    assert store.notices()[0].expired_at is not None  # stays on record


def test_rate_counters_count_per_bucket(store):
    counts = [store.hit_rate_counter("client-a:1", NOW, NOW + timedelta(minutes=1)) for _ in range(3)]
    assert counts == [1, 2, 3]
    assert store.hit_rate_counter("client-b:1", NOW, NOW + timedelta(minutes=1)) == 1


def test_keys_and_upload_jobs_come_back_as_records(store):
    from gridkb.records import ApiKeyInfo, FileFailure, IngestJob, IngestReport, JobStatus, Role

    store.add_api_key("ab" * 32, "agent-1", "agent", NOW, "营销部")
    assert store.api_keys() == [ApiKeyInfo("ab" * 6, "agent-1", Role.AGENT, "营销部", NOW, None)]
    store.add_job("j1", ["a.md"], "admin", NOW)
    assert store.job("j1") == IngestJob("j1", JobStatus.QUEUED, ("a.md",), "admin", NOW) and store.job("nope") is None
    store.update_job("j1", status=JobStatus.RUNNING, stage="embed", done=2, total=5)
    report = IngestReport(documents=1, added=["uploads/a.md"], failed=[FileFailure("uploads/b.md", "编码无法识别")])
    store.update_job("j1", status=JobStatus.DONE, finished_at=NOW, error="b.md: 编码无法识别", report=report)
    job = store.job("j1")
    assert (job.status, job.stage, job.done, job.total, job.finished_at) == (JobStatus.DONE, "embed", 2, 5, NOW)
    assert job.report == report and job.error == "b.md: 编码无法识别"


def test_unreachable_database_is_a_clear_error():
    from gridkb.errors import DatabaseError

    with pytest.raises(DatabaseError, match="cannot reach"):
        ServiceStore("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_a_connection_cut_while_idle_is_replaced_not_failed(postgres_url, monkeypatch):
    """A database restart or a firewall's idle cut kills pooled connections; the next request must
    get a fresh one (checked only after idling, so busy connections pay no round trip)."""
    import sqlalchemy

    from gridkb.storage.service_db import engine

    monkeypatch.setattr(engine, "IDLE_PING_SECONDS", 0.0)
    store = ServiceStore(postgres_url)
    assert store.hit_rate_counter("idle:1", NOW, NOW + timedelta(minutes=1)) == 1
    database = postgres_url.rsplit("/", 1)[-1]
    admin = sqlalchemy.create_engine(postgres_url.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(
            sqlalchemy.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
            {"d": database},
        ).fetchall()
    admin.dispose()
    assert killed  # the pooled connection was there, and is gone now
    assert store.hit_rate_counter("idle:1", NOW, NOW + timedelta(minutes=1)) == 2
    store.close()
