"""Battery item 1: the role × route matrix, generated from the OpenAPI document of the real app.

Every operation is called by every caller (anonymous, an unknown key, the widget key, an agent, an
admin); the expected outcome comes from the one table of route permissions, ``gridkb.api.auth.PERMISSIONS``.
A refused caller must get exactly 401 (no or unknown key) or 403 (wrong role); an allowed one must get
past the gate (any answer but 401/403/5xx; an empty body makes a write a harmless 422). An operation
without a rule in the table is a failure, so a new route cannot ship without one.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from gridkb.api.auth import PERMISSIONS, Caller, rule_for
from gridkb.records import Role
from tests.api.conftest import ADMIN_KEY, WIDGET_KEY, agent_key, live_server, web_settings  # noqa: F401 - session fixtures

CALLERS: dict[str, tuple[Caller | None, str | None]] = {
    "anonymous": (None, None),
    "unknown key": (None, "agt_not-a-key-of-this-service"),
    "widget": (Caller("widget", Role.CUSTOMER), WIDGET_KEY),
    "agent": (Caller("agent-7", Role.AGENT), None),  # the session's agent key, filled in below
    "admin": (Caller("admin", Role.ADMIN), ADMIN_KEY),
}
PATH_VALUE = "0123456789ab"  # any id: the gate answers before the path is validated or looked up


def _outcome(method: str, url: str, client) -> int:  # type: ignore[no-untyped-def]
    body = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
    return int(client.request(method, url, **body).status_code)


def test_every_operation_for_every_role_follows_the_permission_table(live_server, agent_key, battery):  # noqa: F811
    document = live_server.client().get("/openapi.json").json()
    keys = {name: (agent_key if name == "agent" else key) for name, (_, key) in CALLERS.items()}
    failures: list[str] = []
    calls = 0
    operations = [(method.upper(), path) for path, methods in document["paths"].items() for method in methods]
    for method, path in operations:
        if (method, path) not in PERMISSIONS:
            failures.append(f"{method} {path}: no rule in gridkb.api.auth.PERMISSIONS")
            continue
        rule = rule_for(method, path)
        url = re.sub(r"\{[^}]+\}", PATH_VALUE, path)
        for name, (caller, _) in CALLERS.items():
            with live_server.client(keys[name]) as client:
                status = _outcome(method, url, client)
            calls += 1
            expected = rule.refusal(caller)
            if expected is not None and status != expected:
                failures.append(f"{name} {method} {path}: {status}, expected {expected}")
            elif expected is None and (status in (401, 403) or status >= 500):
                failures.append(f"{name} {method} {path}: {status}, expected to be let in")
    documented = set(operations)
    for method, path in set(PERMISSIONS) - documented:  # the pages: rules for routes that exist, open to all
        with live_server.client() as anonymous:
            calls += 1
            if anonymous.request(method, path).status_code != 200:
                failures.append(f"{method} {path}: a rule for a page that does not answer")
    battery.record(f"role × route matrix ({len(operations)} operations × {len(CALLERS)} callers)", calls, failures)
    assert len(operations) >= 24
    assert not failures, "\n".join(failures)


def test_a_route_without_a_rule_refuses_everyone(web_settings):  # noqa: F811
    from gridkb.api.app import create_app

    app = create_app(web_settings)

    @app.get("/api/unruled")
    def unruled() -> dict[str, str]:
        return {"secret": "x"}

    with TestClient(app) as client:
        assert client.get("/api/unruled").status_code == 401
        assert client.get("/api/unruled", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).status_code == 403
        assert client.get("/healthz").status_code == 200
