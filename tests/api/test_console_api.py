"""What the agent console reads from the API: Chinese display fields next to the codes, the ticket
queue by urgency with a readable timeline and the actions allowed now, the organisation report with
conflict states and an admin's ruling on an undecided conflict, and the favicon."""

import shutil

import pytest

from tests.api.conftest import ADMIN_KEY, WIDGET_KEY
from tests.conftest import FIXTURES, ROOT

# an undated notice that disagrees with the 2025 guide (15 个工作日): the dates cannot decide it
UNDECIDED_DOC = """---
title: 非居民报装须知
audience: public
---
# 非居民报装须知

## 办理时限
低压非居民用户不超过 20 个工作日。
"""


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_tickets_carry_chinese_labels_a_timeline_and_their_next_actions(live_server, agent_key):
    with live_server.client(agent_key) as agent:
        low = agent.post("/api/tickets", json={"question": "咨询电子发票抬头修改", "category": "payment", "priority": "low"}).json()
        urgent = agent.post("/api/tickets", json={"question": "小区变压器冒烟", "category": "outage", "priority": "urgent"}).json()
        assert urgent["priority"] == "urgent" and urgent["priority_label"] == "紧急"  # the code stays beside the label
        assert urgent["status_label"] == "新建" and urgent["origin_label"] == "坐席创建"
        assert urgent["category_name"] == "停电与故障抢修" and _has_chinese(urgent["queue_label"])
        actions = {(a["action"], a["status"]): a["label"] for a in urgent["next_actions"]}
        assert actions[("transition", "triaged")] == "分诊" and ("assign", "") in actions and ("resolve", "") not in actions
        assert ("approve", "") not in actions  # approving answers is for admins

        number = urgent["number"]
        agent.patch(f"/api/tickets/{number}", json={"action": "transition", "status": "triaged", "note": "已核实地址"})
        agent.patch(f"/api/tickets/{number}", json={"action": "assign", "assignee": "agent-7"})
        detail = agent.get(f"/api/tickets/{number}").json()
        assert [e["action_label"] for e in detail["timeline"]] == ["创建工单", "状态变更", "已分派"]
        created, triaged, assigned = detail["timeline"]
        assert created["actor_label"] == "agent-7" and "来源：坐席创建" in created["summary"]
        assert "状态 新建 → 已分诊" in triaged["summary"] and "备注：已核实地址" in triaged["summary"]
        assert "分派给 agent-7" in assigned["summary"]
        assert {(a["action"], a["status"]) for a in detail["next_actions"]} >= {("transition", "in_progress"), ("assign", "")}

        queue = agent.get("/api/tickets", params={"sort": "urgency", "limit": 500}).json()
        numbers = [t["number"] for t in queue]
        assert numbers.index(number) < numbers.index(low["number"])
        open_ranks = [t["priority"] for t in queue if t["status"] not in ("resolved", "closed")]
        order = ["urgent", "high", "normal", "low"]
        assert open_ranks == sorted(open_ranks, key=order.index)  # by priority, open tickets first
        assert agent.get("/api/tickets", params={"sort": "sideways"}).status_code == 422


def test_the_console_reads_the_ticket_lifecycle_from_the_state_machine(live_server, agent_key):
    from gridkb.records import TicketStatus
    from gridkb.tickets.service import TRANSITIONS

    with live_server.client(agent_key) as agent:
        statuses = agent.get("/api/ticket-statuses").json()
    assert [s["code"] for s in statuses] == [s.value for s in TicketStatus]
    by_code = {s["code"]: s for s in statuses}
    assert {c for c, s in by_code.items() if s["finished"]} == {"resolved", "closed"}
    assert by_code["resolved"]["next"] == [t.value for t in TRANSITIONS[TicketStatus.RESOLVED]]
    assert by_code["in_progress"]["label"] == "处理中" and all(_has_chinese(s["label"]) for s in statuses)
    with live_server.client(WIDGET_KEY) as widget:
        assert widget.get("/api/ticket-statuses").status_code == 403


def test_search_gaps_metrics_graph_and_notices_show_chinese_names(live_server, agent_key):
    with live_server.client(agent_key) as agent, live_server.client(WIDGET_KEY) as widget:
        hit = agent.get("/api/search", params={"q": "电费", "category": "payment"}).json()[0]
        assert hit["category"] == "payment" and hit["category_name"] == "缴费与发票" and hit["audience_label"] in ("公开", "内部")
        reply = widget.post("/api/chat", json={"message": "火星基地的电费怎么交"}).json()
        widget.post("/api/feedback", json={"session_id": reply["session_id"], "message_id": reply["message_id"], "helpful": False})
        metrics = agent.get("/api/metrics").json()
        assert metrics["satisfaction_rate"] is not None and metrics["helpful_rate"] is not None
        assert all(_has_chinese(metrics["labels"][code]) for code in metrics["tickets_by_status"])
        assert all(metrics["category_names"][code] for code in metrics["tickets_by_category"])
        for gap in agent.get("/api/gaps").json():
            assert _has_chinese(gap["queue_label"]) and gap["category_name"]
        graph = agent.get("/api/graph", params={"entity": "业扩报装"}).json()
        assert graph["edges"] and all(_has_chinese(e["label"]) for e in graph["edges"])
        assert all(_has_chinese(n["type_label"]) for n in graph["nodes"])


def test_favicon_is_served_locally(live_server):
    with live_server.client() as anonymous:
        for path in ("/favicon.svg", "/favicon.ico"):
            icon = anonymous.get(path)
            assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
            assert icon.text.lstrip().startswith("<svg") and "http://" not in icon.text.replace("http://www.w3.org/2000/svg", "")
        assert 'rel="icon" href="/favicon.svg"' in anonymous.get("/console").text


@pytest.fixture(scope="module")
def conflict_settings(built_kb, tmp_path_factory):
    """The mini corpus (one conflict its dates settle) plus a notice that leaves another undecided."""
    from gridkb.config import Settings
    from gridkb.ingest import ingest

    session_settings, _, _ = built_kb
    base = tmp_path_factory.mktemp("conflict_kb")
    corpus = base / "corpus"
    shutil.copytree(FIXTURES / "mini_corpus", corpus)
    (corpus / "public" / "非居民报装须知.md").write_text(UNDECIDED_DOC, encoding="utf-8")
    (base / "kb").mkdir()
    shutil.copy(session_settings.kb_dir / "embeddings.sqlite", base / "kb" / "embeddings.sqlite")
    settings = Settings(
        kb_dir=base / "kb", config_dir=ROOT / "kb", classifier_training=FIXTURES / "eval" / "mini_qa.jsonl",
        database_url=f"sqlite:///{base / 'service.sqlite'}", published_dir=base / "published", admin_key=ADMIN_KEY, widget_key=WIDGET_KEY,
    )
    ingest([corpus], settings)
    return settings


def _client(settings, key):
    from fastapi.testclient import TestClient

    from gridkb.api.app import create_app

    return TestClient(create_app(settings), headers={"Authorization": f"Bearer {key}"})


def test_report_shows_conflict_states_and_an_admin_decides_an_undecided_one(conflict_settings):
    with _client(conflict_settings, ADMIN_KEY) as admin:
        agent_key = admin.post("/api/keys", json={"name": "agent-9", "role": "agent"}).json()["key"]
        report = admin.get("/api/kb/report").json()
        by_subject = {c["subject"]: c for c in report["conflicts"]}
        settled, open_one = by_subject["低压居民用户"], by_subject["低压非居民用户"]
        assert settled["state"] == "superseded" and settled["state_label"] == "已由新文件取代"
        assert open_one["state"] == "undecided" and open_one["state_label"] == "待人工裁决" and open_one["preferred"] == ""
        titles = {s["title"].split(" › ")[0] for s in open_one["statements"]}
        assert titles == {"低压居民新装办事指南", "非居民报装须知"}  # documents by title, not path
        assert {tuple(s["values"]) for s in open_one["statements"]} == {("15个工作日",), ("20个工作日",)}
        for group in report["duplicates"]:
            assert group["items"][0]["canonical"] and all(i["title"] for i in group["items"])

        guide = next(s["chunk_id"] for s in open_one["statements"] if s["title"].startswith("低压居民新装办事指南"))
        route = f"/api/kb/conflicts/{open_one['id']}/decision"
        with _client(conflict_settings, agent_key) as agent:
            assert agent.get("/api/kb/report").status_code == 200
            assert agent.post(route, json={"preferred": guide}).status_code == 403
        assert admin.post(route, json={"preferred": "ffffffffffffffff"}).status_code == 422  # not one of its statements
        assert admin.post("/api/kb/conflicts/0123456789abcdef/decision", json={"preferred": guide}).status_code == 404
        decided = admin.post(route, json={"preferred": guide, "note": "以 2025 年办事指南为准"})
        assert decided.status_code == 200, decided.text
        assert decided.json()["decided_by"] == "admin" and decided.json()["preferred"] == guide
        assert admin.post(route, json={"preferred": guide}).status_code == 409  # decided once
        assert admin.post(f"/api/kb/conflicts/{settled['id']}/decision", json={"preferred": guide}).status_code == 409

    with _client(conflict_settings, ADMIN_KEY) as again:  # another worker, the same database: kept
        ruled = next(c for c in again.get("/api/kb/report").json()["conflicts"] if c["id"] == open_one["id"])
        assert ruled["state"] == "decided" and ruled["state_label"] == "已人工裁决" and ruled["decided_by"] == "admin"
        assert "以 2025 年办事指南为准" in ruled["reason_label"] and [s["preferred"] for s in ruled["statements"]].count(True) == 1
    from gridkb.storage.service_db import ServiceStore

    (decision,) = ServiceStore(conflict_settings.service_database_url).conflict_decisions().values()
    assert decision.decided_by == "admin" and decision.decided_at is not None  # who and when, for the audit
