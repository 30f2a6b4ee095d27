"""Bad input gets a clear error, never a 500 (issue 14's crashes), and every error has one shape:
``{"detail": "<for a person>", "errors": [<field refusals>]}``."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import ADMIN_KEY, WIDGET_KEY


def _is_error(response, status: int) -> bool:  # type: ignore[no-untyped-def]
    body = response.json()
    return response.status_code == status and isinstance(body["detail"], str) and body["detail"] and isinstance(body["errors"], list)


def test_a_lone_surrogate_in_a_message_is_refused_not_a_crash(live_server):
    with live_server.client(WIDGET_KEY) as widget:
        for raw in (b'{"message":"\\ud800abc"}', b'{"message":"ok", "\\udc00":1}', b'{"message":"\\udfff"}'):
            response = widget.post("/api/chat", content=raw, headers={"Content-Type": "application/json"})
            assert _is_error(response, 422), raw
            assert response.json()["errors"][0]["loc"][0] == "body"


@pytest.mark.parametrize("route", ["/api/gaps", "/api/metrics"])
def test_since_at_the_edges_of_the_calendar(live_server, route):
    with live_server.client(ADMIN_KEY) as admin:
        for since in ("0001-01-01T00:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "2026-11-01T08:00:00"):
            assert admin.get(route, params={"since": since}).status_code == 200, since
        for since in ("0.5", "1700000000", "yesterday", "2026-11-01"):  # the schema says date-time: nothing else
            refused = admin.get(route, params={"since": since})
            assert _is_error(refused, 422) and refused.json()["errors"][0]["loc"] == ["query", "since"], since


def test_a_notice_at_the_edges_of_the_calendar_is_kept_and_answered(live_server):
    area = "历法边界测试小区"
    with live_server.client(ADMIN_KEY) as admin, live_server.client(WIDGET_KEY) as widget:
        created = admin.post("/api/notices", json={
            "kind": "planned_outage", "title": "配电设施长期改造", "areas": [area],
            "starts_at": "0001-01-01T00:00:00", "ends_at": "9999-12-31T23:59:59-01:00",
        })
        assert created.status_code == 201, created.text
        try:
            assert area in [a for n in admin.get("/api/notices", params={"all": True}).json() for a in n["areas"]]
            reply = widget.post("/api/chat", json={"message": f"{area}停电了吗"})
            assert reply.status_code == 200 and "9999-12-31" in reply.json()["answer"]
        finally:
            assert admin.post(f"/api/notices/{created.json()['id']}/expire").status_code == 200


def test_a_non_ascii_key_is_refused_on_every_authenticated_route(live_server):
    operations = live_server.client().get("/openapi.json").json()["paths"]
    checked = 0
    with live_server.client() as anonymous:
        for path, methods in operations.items():
            for method, operation in methods.items():
                if "security" not in operation:
                    continue
                url = re.sub(r"\{[^}]+\}", "0123456789ab", path)
                for key in ("Bearer 密钥".encode(), "Bearer clé".encode("latin-1"), b"Bearer \xff\xfe"):
                    response = anonymous.request(method.upper(), url, headers={"Authorization": key})
                    assert _is_error(response, 401), (method, path, key, response.text)
                checked += 1
    assert checked >= 24


def test_blank_and_nul_only_text_is_refused_with_a_clear_422(live_server, agent_key):
    with live_server.client(agent_key) as agent:
        for question in ("\x00", "\x00\x00\x00", " \x00\t\n", "\u3000"):
            refused = agent.post("/api/tickets", json={"question": question})
            assert _is_error(refused, 422), repr(question)
            assert refused.json()["errors"][0]["loc"] == ["body", "question"]
        assert "不能为空白" in agent.post("/api/tickets", json={"question": "\x00"}).json()["detail"]


def test_what_the_app_refuses_the_schema_refuses_too(live_server, agent_key):
    """The contract findings: each refusal is a validation error in the one shape, and the OpenAPI
    document says so (min lengths, patterns, the taxonomy's categories, one body per ticket action)."""
    document = live_server.client().get("/openapi.json").json()
    create = document["components"]["schemas"]["TicketCreate"]["properties"]
    assert "billing" in create["category"]["enum"] and "nope" not in create["category"]["enum"]
    assert document["components"]["schemas"]["NoticeIn"]["properties"]["areas"]["items"]["minLength"] == 1
    patch_body = document["paths"]["/api/tickets/{number}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert patch_body["discriminator"]["propertyName"] == "action"
    with live_server.client(agent_key) as agent:
        assert _is_error(agent.post("/api/tickets", json={"question": "电费怎么算", "category": "nope"}), 422)
        window = {"starts_at": "2026-12-01T08:00:00+08:00", "ends_at": "2026-12-01T12:00:00+08:00"}
        refused = agent.post("/api/notices", json={"title": "计划停电", "areas": [""], **window})
        assert _is_error(refused, 422) and refused.json()["errors"][0]["loc"][:3] == ["body", "areas", 0]
        assert _is_error(agent.patch("/api/tickets/GD20990101-000001", json={"action": "note", "note": ""}), 422)
        assert _is_error(agent.patch("/api/tickets/GD20990101-000001", json={"action": "transition"}), 422)
        missing = agent.patch("/api/tickets/GD20990101-000001", json={"action": "note", "note": "已回电"})
        assert _is_error(missing, 404)  # valid, but no such ticket


def test_every_error_response_is_documented_in_the_one_shape(live_server):
    document = live_server.client().get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            errors = {code: spec for code, spec in operation["responses"].items() if code.startswith(("4", "5"))}
            assert errors, (method, path)
            for code, spec in errors.items():
                assert spec["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, code)
            if "security" in operation:
                assert "401" in errors, (method, path)
