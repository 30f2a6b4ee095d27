"""Customers' numbers over HTTP: knowledge gaps and metrics, a ticket's history, who may take a
ticket, and the server's log (issue 14, personal data)."""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.api.conftest import ADMIN_KEY, AGENT_DEPARTMENT, WIDGET_KEY

PHONE = "13812345678"
ID_CARD = "110101199003071234"
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error", "gridkb")


@contextmanager
def server_log(path: Path) -> Iterator[Path]:
    """Everything the live server (a thread of this process) logs at INFO and above, written to
    ``path`` with tracebacks, as an operator's log file would hold it."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    loggers = [logging.getLogger(name) for name in SERVER_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield path
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(handler)
            logger.setLevel(level)
        handler.close()


def plain_forms(value: str) -> list[str]:
    """The ways a planted number can appear unmasked: as written, digits only, full-width."""
    digits = re.sub(r"[^0-9Xx]", "", value.translate({0xFF10 + i: str(i) for i in range(10)}))
    wide = digits.translate({ord(str(i)): chr(0xFF10 + i) for i in range(10)})
    return list(dict.fromkeys([value, digits, wide]))


def _failed_question(live_server, question: str) -> None:
    """A question the customer says was not helpful: a knowledge gap."""
    with live_server.client(WIDGET_KEY) as widget:
        reply = widget.post("/api/chat", json={"message": question}).json()
        rated = widget.post("/api/feedback", json={"session_id": reply["session_id"], "message_id": reply["message_id"], "helpful": False})
        assert rated.status_code == 200, rated.text


def test_gaps_and_metrics_never_show_a_customers_numbers(live_server, agent_key):
    _failed_question(live_server, "电费怎么交？我的电话１３８１２３４５６７８，身份证110101199003071234")
    _failed_question(live_server, "电费怎么交？回电138-1234-5678")
    with live_server.client(agent_key) as agent, live_server.client(ADMIN_KEY) as admin:
        for client in (agent, admin):  # a gap is about knowledge: no one needs the number there
            gaps = client.get("/api/gaps")
            top = client.get("/api/metrics").json()["top_gaps"]
            assert gaps.status_code == 200 and any("电费怎么交" in g["question"] for g in gaps.json())
            shown = gaps.text + str(top)
            for planted in ("１３８１２３４５６７８", "138-1234-5678", ID_CARD):
                assert not any(form in shown for form in plain_forms(planted)), planted
            assert "电费怎么交？回电" in shown  # the question is kept, its numbers are taken out before answering


def test_history_notes_are_masked_for_agents_the_ticket_is_not_assigned_to(live_server, agent_key):
    note = f"已致电{PHONE}，核对身份证{ID_CARD}"
    with live_server.client(ADMIN_KEY) as admin:
        bystander_key = admin.post("/api/keys", json={"name": "agent-notes", "role": "agent", "department": AGENT_DEPARTMENT}).json()["key"]
        number = admin.post("/api/tickets", json={"question": "小区停电", "category": "outage"}).json()["number"]
        assert admin.patch(f"/api/tickets/{number}", json={"action": "note", "note": note}).status_code == 200
        assert admin.patch(f"/api/tickets/{number}", json={"action": "assign", "assignee": "agent-7", "note": note}).status_code == 200
        assert note in str(admin.get(f"/api/tickets/{number}").json()["events"])  # the supervisor sees it
    with live_server.client(agent_key) as assigned, live_server.client(bystander_key) as bystander:
        full = assigned.get(f"/api/tickets/{number}").json()
        assert full["events"][1]["detail"]["note"] == note and note in full["timeline"][1]["summary"]
        masked = bystander.get(f"/api/tickets/{number}")
        assert masked.status_code == 200
        for event in masked.json()["events"]:
            assert PHONE not in str(event) and ID_CARD not in str(event)
        assert "138****5678" in masked.json()["events"][1]["detail"]["note"]
        assert PHONE not in masked.text and ID_CARD not in masked.text  # events, timeline and the rest


def test_taking_a_ticket_needs_its_department_or_a_supervisor_and_is_audited(live_server, caplog):
    with live_server.client(ADMIN_KEY) as admin:
        keys = {
            name: admin.post("/api/keys", json={"name": name, "role": "agent", "department": department}).json()["key"]
            for name, department in (("agent-nodept", ""), ("agent-billing", "电费核算中心"), ("agent-outage", AGENT_DEPARTMENT))
        }
        listed = {k["name"]: k["department"] for k in admin.get("/api/keys").json()}
        assert listed["agent-outage"] == AGENT_DEPARTMENT and listed["agent-nodept"] == ""
        number = admin.post("/api/tickets", json={"question": f"停电了，回电{PHONE}", "category": "outage", "contact": PHONE}).json()["number"]
    caplog.set_level(logging.INFO, logger="gridkb.tickets")
    for name in ("agent-nodept", "agent-billing"):
        with live_server.client(keys[name]) as agent:
            refused = agent.patch(f"/api/tickets/{number}", json={"action": "assign", "assignee": name})
            assert refused.status_code == 403 and AGENT_DEPARTMENT in refused.json()["detail"]
            other = agent.patch(f"/api/tickets/{number}", json={"action": "assign", "assignee": "agent-outage"})
            assert other.status_code == 403  # nor hand it to a colleague outside their department
            shown = agent.get(f"/api/tickets/{number}").json()
            assert shown["assignee"] == "" and shown["contact"] == "138****5678"
    with live_server.client(keys["agent-outage"]) as agent:
        taken = agent.patch(f"/api/tickets/{number}", json={"action": "assign", "assignee": "agent-outage"})
        assert taken.status_code == 200 and taken.json()["contact"] == PHONE
        event = taken.json()["events"][-1]
        assert event["action"] == "assigned" and event["actor"] == "agent-outage"
        assert event["detail"]["self"] is True and event["detail"]["grounds"] == "department"
        assert "分派给 agent-outage（本人领取：本部门工单）" in taken.json()["timeline"][-1]["summary"]
    audit = [r.getMessage() for r in caplog.records if r.name == "gridkb.tickets"]
    assert any(number in line and "agent-outage" in line and "department" in line for line in audit)
    assert sum(number in line and "refused" in line for line in audit) == 4
    assert not any(PHONE in line for line in audit)


def test_the_server_log_holds_no_personal_data(live_server, agent_key, tmp_path):
    import httpx

    with server_log(tmp_path / "server.log") as path:
        with live_server.client(WIDGET_KEY) as widget, live_server.client(agent_key) as agent:
            assert widget.get("/api/recommend", params={"q": f"电话{PHONE}停电怎么办"}).status_code == 200
            assert agent.get("/api/search", params={"q": "回电 １３８ １２３４ ５６７８"}).status_code == 200
            assert widget.get(f"/api/recommend?q=%E7%94%B5%E8%AF%9D{PHONE}+138-1234-5678").status_code == 200
        # an error with a traceback quoting what the customer wrote (as a failed database write does)
        try:
            raise ValueError(f"cannot store message '已致电{PHONE}，身份证{ID_CARD}'")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        httpx.get(live_server.url + "/healthz")  # a new connection: access logging is decided per connection
    logged = path.read_text(encoding="utf-8")
    assert "/api/recommend?q=电话138****5678停电怎么办" in logged  # decoded, then masked
    assert "/api/search?q=回电 １３８ **** ５６７８" in logged and "Traceback" in logged
    for planted in (PHONE, ID_CARD, "138-1234-5678", "１３８ １２３４ ５６７８"):
        assert not any(form in logged for form in plain_forms(planted)), planted


def test_failed_database_writes_never_quote_what_was_written(tmp_path):
    from datetime import datetime, timezone

    from gridkb.records import ChatMessage
    from gridkb.storage.service_db import ServiceStore

    store = ServiceStore(f"sqlite:///{tmp_path / 'service.sqlite'}")
    with pytest.raises(Exception) as failed:  # no such session: the foreign key refuses the row
        store.add_message(ChatMessage("no-such-session", "user", f"已致电{PHONE}", datetime.now(timezone.utc), id="m1"))
    assert "FOREIGN KEY" in str(failed.value) and PHONE not in str(failed.value)
