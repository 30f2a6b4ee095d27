"""Battery item 2 (masking): customers' numbers planted in every way they reach the real server
(chat, tickets, notes, feedback, an uploaded document, query strings) are never shown unmasked to a
role without permission, never in the server's log, never in the knowledge base's files on disk."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.api.conftest import ADMIN_KEY, AGENT_DEPARTMENT, WIDGET_KEY, agent_key, live_server, web_settings  # noqa: F401 - shared server
from tests.api.test_privacy_api import plain_forms, server_log
from tests.battery.conftest import trials

PLANTED = {
    "phone": "13812345678",
    "phone, hyphens": "139-2345-6789",
    "phone, spaces": "137 3456 7890",
    "phone, +86": "+86 136 4567 8901",
    "phone, full-width": "１３５５６７８９０１２",
    "ID card": "11010119900307123X",
    "ID card, full-width": "４４０１０４１９９００１０１１２３４",
    "户号": "3100987654",
    "bank card": "6222021234567890123",
    "bank card, spaces": "6222 0212 3456 7891",
}
SAID_AS = {"phone": "手机", "ID card": "身份证", "户号": "户号", "bank card": "银行卡"}  # as a customer writes them
SENTENCE = "，".join(f"{SAID_AS[kind.split(',')[0]]}{value}" for kind, value in PLANTED.items())
DOCUMENT = f"""---
title: 投诉回访记录（含客户信息）
audience: internal
---
# 投诉回访记录

回访客户：电话 {PLANTED['phone']}，备用 {PLANTED['phone, hyphens']}、{PLANTED['phone, spaces']}、{PLANTED['phone, +86']}、{PLANTED['phone, full-width']}。
身份证 {PLANTED['ID card']}，{PLANTED['ID card, full-width']}；户号 {PLANTED['户号']}；退费银行卡 {PLANTED['bank card']}、{PLANTED['bank card, spaces']}。
客户对抢修到达时间表示满意，回访闭环。
"""


def _leaks(text: str) -> list[str]:
    return [kind for kind, value in PLANTED.items() if any(form in text for form in plain_forms(value))]


def _plant(server, agent: str, round_: int) -> tuple[list[str], list[str]]:
    """Every channel once; returns (what the widget was answered, ticket numbers)."""
    answered, numbers = [], []
    with server.client(WIDGET_KEY) as widget, server.client(agent) as staff, server.client(ADMIN_KEY) as admin:
        reply = widget.post("/api/chat", json={"message": f"电费怎么交？{SENTENCE}"})
        answered.append(reply.text)
        body = reply.json()
        feedback = widget.post("/api/feedback", json={"session_id": body["session_id"], "message_id": body["message_id"], "helpful": False, "comment": SENTENCE})
        answered.append(feedback.text)
        if feedback.json().get("ticket_id"):
            numbers.append(feedback.json()["ticket_id"])
        session = None
        for message in ("我家停电了，转人工", "需要回电", PLANTED["phone, hyphens"], f"户号 {PLANTED['户号']}"):
            turn = widget.post("/api/chat", json={"session_id": session, "message": message})
            answered.append(turn.text)
            session = turn.json()["session_id"]
            numbers.append(turn.json().get("ticket_id") or "")
        for path in ("/api/recommend",):
            answered.append(widget.get(path, params={"q": f"停电 {SENTENCE}"}).text)
        staff.get("/api/search", params={"q": f"回访 {SENTENCE}"})
        ticket = admin.post("/api/tickets", json={"question": f"第{round_}次回访：{SENTENCE}", "category": "outage", "contact": PLANTED["phone, spaces"]})
        numbers.append(ticket.json()["number"])
        admin.patch(f"/api/tickets/{ticket.json()['number']}", json={"action": "note", "note": f"已致电，核对 {SENTENCE}"})
        admin.patch(f"/api/tickets/{ticket.json()['number']}", json={"action": "assign", "assignee": "agent-someone-else"})
    return answered, [n for n in dict.fromkeys(numbers) if n]


def _upload(server) -> None:
    with server.client(ADMIN_KEY) as admin:
        job = admin.post("/api/documents", files=[("files", ("回访记录.md", DOCUMENT.encode("utf-8"), "text/markdown"))], data={"audience": "internal"})
        assert job.status_code == 202, job.text
        for _ in range(600):
            state = admin.get(f"/api/documents/{job.json()['id']}").json()
            if state["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert state["status"] == "done", state


def _as_unpermitted(server, agent: str, numbers: list[str]) -> list[str]:
    """What an agent the tickets are not assigned to reads: tickets, gaps, metrics, the knowledge."""
    with server.client(agent) as staff:
        responses = [staff.get(f"/api/tickets/{n}").text for n in numbers]
        responses += [staff.get("/api/tickets", params={"limit": 500}).text, staff.get("/api/gaps").text, staff.get("/api/metrics").text]
        responses += [staff.get("/api/search", params={"q": "投诉回访记录 回访客户 电话"}).text, staff.get("/api/kb/report").text]
    return responses


@pytest.fixture(scope="module")
def planted(live_server, agent_key, tmp_path_factory):  # noqa: F811 - the shared fixtures
    """Plant everything once (the long battery: several rounds) with the server's log captured."""
    log = tmp_path_factory.mktemp("server_log") / "server.log"
    with live_server.client(ADMIN_KEY) as admin:  # a colleague no planted ticket is assigned to
        bystander = admin.post("/api/keys", json={"name": "agent-battery", "role": "agent", "department": AGENT_DEPARTMENT}).json()["key"]
    with server_log(log):
        _upload(live_server)
        answered, numbers = [], []
        for round_ in range(trials(1, 5)):
            more, tickets = _plant(live_server, agent_key, round_)
            answered += more
            numbers += tickets
        seen = _as_unpermitted(live_server, bystander, numbers)
    return {"widget": answered, "agent": seen, "log": log, "numbers": numbers}


def test_no_unmasked_numbers_in_responses_to_roles_without_permission(planted, battery):
    failures = []
    for role in ("widget", "agent"):
        for response in planted[role]:
            if leaked := _leaks(response):
                failures.append(f"{role} was shown {', '.join(leaked)}: {response[:120]}")
    battery.record("personal data: API responses to roles without permission", len(planted["widget"]) + len(planted["agent"]), failures)
    assert planted["numbers"] and not failures


def test_no_unmasked_numbers_in_the_server_log(planted, battery):
    logged = planted["log"].read_text(encoding="utf-8")
    failures = [f"the log holds {kind}" for kind in _leaks(logged)]
    battery.record("personal data: server log (access, errors, gridkb)", len(PLANTED), failures)
    assert "/api/recommend?q=" in logged and not failures


def test_no_unmasked_numbers_in_the_knowledge_base_files(planted, live_server, battery):  # noqa: F811
    kb_dir = Path(live_server.settings.kb_dir)
    files = [p for p in kb_dir.rglob("*") if p.is_file()]
    assert any("chroma" in str(p) for p in files) and any("bm25" in str(p) for p in files) and any("graph" in p.name for p in files)
    indexed = "客户对抢修到达时间表示满意".encode("utf-8")
    assert sum(indexed in p.read_bytes() for p in files) >= 2  # the uploaded document did reach the indexes
    failures = []
    for path in files:
        data = path.read_bytes()
        for kind, value in PLANTED.items():
            if any(form.encode("utf-8") in data for form in plain_forms(value)):
                failures.append(f"{path.relative_to(kb_dir)} holds {kind}")
    battery.record("personal data: knowledge-base files (Chroma, BM25, graph)", len(files) * len(PLANTED), failures)
    assert not failures
