"""The contact collection over HTTP: what the widget is told to show, and who sees the number."""

from tests.api.conftest import ADMIN_KEY, WIDGET_KEY


def _say(widget, session_id, message):
    response = widget.post("/api/chat", json={"session_id": session_id, "message": message})
    assert response.status_code == 200, response.text
    return response.json()


def test_contact_fields_of_a_handoff_and_masking_for_agents_not_assigned(live_server, agent_key):
    with live_server.client(WIDGET_KEY) as widget:
        offer = _say(widget, None, "我家停电了，转人工")
        session, number = offer["session_id"], offer["ticket_id"]
        assert offer["choices"] == ["需要回电", "不用了"] and offer["input"] is None and offer["error"] is None
        ask = _say(widget, session, "需要回电")
        assert ask["input"] == "phone" and ask["choices"] == ["不用了"] and ask["ticket_id"] is None
        wrong = _say(widget, session, "123")
        assert wrong["input"] == "phone" and "号码格式不正确" in wrong["error"]
        where = _say(widget, session, "13812345678")
        assert where["input"] == "address" and "138****5678" in where["answer"] and "13812345678" not in where["answer"]
        done = _say(widget, session, "户号 3100123456")
        assert done["ticket_id"] == number and number in done["answer"] and done["input"] is None and done["choices"] == []

    with live_server.client(ADMIN_KEY) as admin:
        other = admin.post("/api/keys", json={"name": "agent-9", "role": "agent"}).json()["key"]
        full = admin.get(f"/api/tickets/{number}").json()
        assert full["contact"] == "13812345678" and full["address"] == "户号 3100123456"
        assert [e["action"] for e in full["events"]][-2:] == ["contact", "contact"]
        assert "13812345678" not in str(full["events"])  # the history holds only masked values
        # a supervisor dispatches it (a handoff goes to the service centre, not agent-7's department)
        assert admin.patch(f"/api/tickets/{number}", json={"action": "assign", "assignee": "agent-7"}).status_code == 200
    with live_server.client(agent_key) as agent, live_server.client(other) as bystander:
        assigned = agent.get(f"/api/tickets/{number}").json()
        assert assigned["contact"] == "13812345678" and assigned["address"] == "户号 3100123456"
        masked = bystander.get(f"/api/tickets/{number}").json()
        assert masked["contact"] == "138****5678" and masked["address"] == "户号 31******56"
        listed = {t["number"]: t for t in bystander.get("/api/tickets").json()}
        assert listed[number]["contact"] == "138****5678"
