"""Every endpoint of the real app over HTTP: answers, roles and refusals, limits, SSE, masking."""

import json
import time

import pytest

from tests.api.conftest import ADMIN_KEY, WIDGET_KEY

CHAT_KEYS = {"session_id", "message_id", "answer", "confidence", "resolved", "category", "department", "sources", "suggestions", "options", "ticket_id", "choices", "input", "error"}


def test_health_and_pages(live_server):
    with live_server.client() as anonymous:
        health = anonymous.get("/healthz").json()
        assert health == {"status": "ok", "documents": 6, "chunks": health["chunks"]} and health["chunks"] > 5
        assert WIDGET_KEY in anonymous.get("/demo").text and "widget.js" in anonymous.get("/demo").text
        assert anonymous.get("/widget.js").headers["content-type"].startswith("text/javascript")
        docs = anonymous.get("/docs").text
        assert "/static-offline-docs/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()  # works offline
        assert anonymous.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
        assert anonymous.get("/static/vendor/chart.umd.min.js").status_code == 200
        assert "/api/chat" in anonymous.get("/openapi.json").json()["paths"]


def test_chat_multi_turn_and_its_record(live_server):
    with live_server.client(WIDGET_KEY) as widget:
        first = widget.post("/api/chat", json={"session_id": None, "message": "城区抢修多久能到？"}).json()
        assert set(first) == CHAT_KEYS and first["resolved"] and "45 分钟" in first["answer"]
        assert set(first["sources"][0]) == {"title", "section", "snippet", "score"}
        follow = widget.post("/api/chat", json={"session_id": first["session_id"], "message": "那农村呢？"}).json()
        assert follow["session_id"] == first["session_id"] and "90 分钟" in follow["answer"]
        handoff = widget.post("/api/chat", json={"session_id": first["session_id"], "message": "转人工"}).json()
        assert handoff["ticket_id"] and not handoff["resolved"] and handoff["ticket_id"] in handoff["answer"]


def test_chat_stream_sends_the_same_reply_as_events(live_server):
    with live_server.client(WIDGET_KEY) as widget:
        with widget.stream("POST", "/api/chat/stream", json={"message": "电费可以在哪里交？"}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = [block for block in response.read().decode().split("\n\n") if block.strip()]
    names = [b.split("\n")[0].removeprefix("event: ") for b in events]
    assert names[-1] == "done" and set(names[:-1]) == {"delta"} and len(names) > 2
    pieces = "".join(json.loads(b.split("\n", 1)[1].removeprefix("data: "))["text"] for b in events[:-1])
    done = json.loads(events[-1].split("\n", 1)[1].removeprefix("data: "))
    assert set(done) == CHAT_KEYS and pieces == done["answer"] and "南网在线" in pieces


def test_feedback(live_server):
    with live_server.client(WIDGET_KEY) as widget:
        reply = widget.post("/api/chat", json={"message": "电费可以在哪里交？"}).json()
        good = widget.post("/api/feedback", json={"session_id": reply["session_id"], "message_id": reply["message_id"], "helpful": True, "rating": 5})
        assert good.json() == {"ok": True, "ticket_id": None}
        bad = widget.post("/api/feedback", json={"session_id": reply["session_id"], "message_id": reply["message_id"], "helpful": False, "comment": "没用"})
        assert bad.json()["ticket_id"].startswith("GD")
        assert widget.post("/api/feedback", json={"session_id": reply["session_id"], "message_id": reply["message_id"], "helpful": True, "rating": 9}).status_code == 422
        assert widget.post("/api/feedback", json={"session_id": "nope", "message_id": reply["message_id"], "helpful": True}).status_code == 404


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/search?q=电费", None),
        ("get", "/api/tickets", None),
        ("post", "/api/tickets", {"question": "x"}),
        ("get", "/api/gaps", None),
        ("get", "/api/metrics", None),
        ("get", "/api/notices", None),
        ("get", "/api/graph?entity=电费", None),
        ("get", "/api/kb/report", None),
        ("post", "/api/keys", {"name": "x"}),
        ("get", "/api/keys", None),
        ("delete", "/api/keys/0123456789ab", None),
        ("get", "/api/documents/abc", None),
    ],
)
def test_the_widget_key_and_anonymous_callers_are_refused(live_server, method, path, body):
    with live_server.client(WIDGET_KEY) as widget, live_server.client() as anonymous, live_server.client("wrong-key") as wrong:
        assert getattr(widget, method)(path, **({"json": body} if body else {})).status_code == 403
        assert getattr(anonymous, method)(path, **({"json": body} if body else {})).status_code == 401
        assert getattr(wrong, method)(path, **({"json": body} if body else {})).status_code == 401
    with live_server.client() as anonymous:
        assert anonymous.post("/api/chat", json={"message": "你好"}).status_code == 401


def test_agents_cannot_do_admin_things(live_server, agent_key):
    with live_server.client(agent_key) as agent:
        assert agent.get("/api/whoami").json() == {"name": "agent-7", "role": "agent", "role_label": "坐席"}
        assert agent.post("/api/keys", json={"name": "mallory", "role": "admin"}).status_code == 403
        assert agent.post("/api/documents", files={"files": ("a.md", b"# a\n\ntext")}).status_code == 403


def test_admins_list_and_revoke_keys_at_once(live_server, agent_key):
    with live_server.client(ADMIN_KEY) as admin:
        created = admin.post("/api/keys", json={"name": "temp-agent", "role": "agent"}).json()
        assert len(created["id"]) == 12 and created["key"].startswith("agt_")
        listed = {k["id"]: k for k in admin.get("/api/keys").json()}
        assert listed[created["id"]]["name"] == "temp-agent" and listed[created["id"]]["revoked_at"] is None
        assert all("key" not in k for k in listed.values())  # only hashes are stored, only ids are shown
        with live_server.client(created["key"]) as temp:
            assert temp.get("/api/whoami").status_code == 200
            assert temp.delete(f"/api/keys/{created['id']}").status_code == 403  # agents cannot revoke
            assert admin.delete(f"/api/keys/{created['id']}").status_code == 204
            assert temp.get("/api/whoami").status_code == 401  # refused on the very next request
        assert {k["id"]: k for k in admin.get("/api/keys").json()}[created["id"]]["revoked_at"] is not None
        assert admin.delete(f"/api/keys/{created['id']}").status_code == 404  # already revoked
        assert admin.delete("/api/keys/0123456789ab").status_code == 404
        assert admin.delete("/api/keys/not-an-id").status_code == 422
    with live_server.client(agent_key) as agent:  # other keys are untouched
        assert agent.get("/api/whoami").json()["name"] == "agent-7"


def test_limits_give_clear_4xx(live_server):
    with live_server.client(WIDGET_KEY) as widget:
        too_long = widget.post("/api/chat", json={"message": "电" * 1001})
        assert too_long.status_code == 422 and "message" in too_long.text
        huge = widget.post("/api/chat", content=b'{"message": "' + b"a" * 70_000 + b'"}', headers={"Content-Type": "application/json"})
        assert huge.status_code == 413 and "请求过大" in huge.json()["detail"]
        assert widget.post("/api/chat", json={"message": "你好", "extra": 1}).status_code == 422
        assert widget.post("/api/chat", json={"session_id": "../../etc", "message": "你好"}).status_code == 422
        assert widget.post("/api/chat", json={"session_id": "no-such-session", "message": "你好"}).status_code == 404
        assert widget.post("/api/chat", content=b"not json", headers={"Content-Type": "application/json"}).status_code == 422


def test_search_recommend_graph_report(live_server, agent_key):
    with live_server.client(agent_key) as agent, live_server.client(WIDGET_KEY) as widget:
        hits = agent.get("/api/search", params={"q": "低压居民新装资料", "k": 3}).json()
        assert hits and hits[0]["highlights"] and hits[0]["title_path"]
        internal = agent.get("/api/search", params={"q": "省级业务中台由哪几部分组成"}).json()
        assert any(h["audience"] == "internal" for h in internal)  # staff see internal knowledge
        assert agent.get("/api/search", params={"q": "电费", "category": "payment"}).json()[0]["category"] == "payment"
        recommended = widget.get("/api/recommend", params={"q": "电费怎么交"}).json()
        assert recommended["popular"] and set(recommended) == {"related", "popular", "category"}
        graph = agent.get("/api/graph", params={"entity": "业扩报装"})
        assert graph.status_code == 200 and graph.json()["nodes"][0]["id"] == graph.json()["center"]
        assert agent.get("/api/graph", params={"entity": "火星基地"}).status_code == 404
        report = agent.get("/api/kb/report").json()
        assert report["coverage"] and "duplicates" in report


def test_ticket_lifecycle_over_http_with_masking(live_server, agent_key):
    with live_server.client(agent_key) as agent, live_server.client(ADMIN_KEY) as admin:
        created = agent.post("/api/tickets", json={"question": "客户反映电压偏低，电话13812345678", "category": "outage", "contact": "13812345678"})
        assert created.status_code == 201
        number = created.json()["number"]
        assert created.json()["contact"] == "138****5678"  # not assigned to this agent yet
        assert admin.get(f"/api/tickets/{number}").json()["contact"] == "13812345678"
        assert agent.patch(f"/api/tickets/{number}", json={"action": "transition", "status": "closed"}).status_code == 409
        steps = [
            {"action": "transition", "status": "triaged"},
            {"action": "assign", "assignee": "agent-7"},
            {"action": "transition", "status": "in_progress"},
            {"action": "resolve", "resolution": "已安排检修，电压恢复正常。", "publish": True},
        ]
        for step in steps:
            response = agent.patch(f"/api/tickets/{number}", json=step)
            assert response.status_code == 200, response.text
        detail = agent.get(f"/api/tickets/{number}").json()
        assert detail["status"] == "resolved" and detail["contact"] == "13812345678"  # now the agent handles it
        assert [e["action"] for e in detail["events"]] == ["created", "transition", "assigned", "transition", "resolved"]
        assert agent.patch(f"/api/tickets/{number}", json={"action": "approve"}).status_code == 403
        listed = agent.get("/api/tickets", params={"status": "resolved"}).json()
        assert number in [t["number"] for t in listed]
        assert agent.get("/api/tickets/GD19990101-000001").status_code == 404
        gaps = agent.get("/api/gaps")
        metrics = agent.get("/api/metrics").json()
        assert gaps.status_code == 200 and metrics["tickets"] >= 1


def test_notices_over_http(live_server, agent_key):
    with live_server.client(agent_key) as agent, live_server.client(WIDGET_KEY) as widget:
        body = {"title": "幸福小区计划停电", "areas": ["幸福小区"], "starts_at": "2020-01-01T08:00:00+08:00", "ends_at": "2099-01-01T18:00:00+08:00",
                "cause": "配电设备检修", "restoration": "预计 18:00 恢复"}
        created = agent.post("/api/notices", json=body)
        assert created.status_code == 201 and created.json()["active"]
        reply = widget.post("/api/chat", json={"message": "幸福小区停电了"}).json()
        assert "配电设备检修" in reply["answer"]
        assert agent.post("/api/notices", json={**body, "ends_at": "2019-01-01T00:00:00+08:00"}).status_code == 422
        expired = agent.post(f"/api/notices/{created.json()['id']}/expire").json()
        assert not expired["active"] and created.json()["id"] in [n["id"] for n in agent.get("/api/notices", params={"all": True}).json()]


def test_document_upload_with_progress(live_server):
    with live_server.client(ADMIN_KEY) as admin:
        rejected = admin.post("/api/documents", files={"files": ("evil.exe", b"MZ")})
        assert rejected.status_code == 422
        text = "# 充电桩峰谷电价说明\n\n居民个人充电桩可申请执行峰谷分时电价，低谷时段为 0:00–8:00，谷段电价 0.30 元/千瓦时。".encode()
        job = admin.post("/api/documents", files={"files": ("充电桩峰谷电价说明.md", text)})
        assert job.status_code == 202
        job_id = job.json()["id"]
        for _ in range(300):
            state = admin.get(f"/api/documents/{job_id}").json()
            if state["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert state["status"] == "done", state
        assert state["report"]["added"] and state["total"] >= 1
        hits = admin.get("/api/search", params={"q": "充电桩谷段电价"}).json()
        assert any("0.30 元" in h["snippet"] for h in hits)


def test_cors_allows_only_the_configured_pages(live_server):
    with live_server.client() as anonymous:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
        allowed = anonymous.options("/api/chat", headers={"Origin": "https://www.example-utility.cn", **preflight})
        assert allowed.headers.get("access-control-allow-origin") == "https://www.example-utility.cn"
        other = anonymous.options("/api/chat", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers


def test_widget_is_rate_limited_per_client(web_settings, tmp_path, monkeypatch):
    """A second app with a low limit; the counters live in the database, not in the process."""
    from datetime import datetime, timezone

    from fastapi.testclient import TestClient

    import gridkb.ratelimit
    from gridkb.api.app import create_app

    middle = datetime.now(timezone.utc).replace(second=30, microsecond=0)

    class MidMinute(datetime):  # every request in the middle of one window: none may fall into the next
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206
            return middle

    monkeypatch.setattr(gridkb.ratelimit, "datetime", MidMinute)

    settings = web_settings.model_copy(update={"widget_rate_per_minute": 3, "database_url": f"sqlite:///{tmp_path / 'rate.sqlite'}"})
    app = create_app(settings)
    with TestClient(app, headers={"Authorization": f"Bearer {WIDGET_KEY}"}) as widget:
        codes = [widget.post("/api/chat", json={"message": "你好"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    second = create_app(settings)  # another worker sees the same counters
    with TestClient(second, headers={"Authorization": f"Bearer {WIDGET_KEY}"}) as widget:
        limited = widget.post("/api/chat", json={"message": "你好"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) == 31


def test_personal_data_is_masked_in_logs():
    import logging

    from gridkb.api.logs import MaskingFilter

    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s"', ("127.0.0.1", "GET", "/api/search?q=13812345678"), None)
    assert MaskingFilter().filter(record)
    assert "13812345678" not in record.getMessage() and "138****5678" in record.getMessage()
