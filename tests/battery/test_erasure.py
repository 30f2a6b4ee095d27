"""Battery item 2, erasure and retention: a customer's data deleted on request is gone from the API
and from the bytes of the database files; conversations older than the retention period are deleted.

Each trial plants a customer through the widget on a real server (a handoff with a callback phone
written with separators, an address, a question naming the phone again, feedback, an agent's note),
proves the planted phone, address and session id are in the raw SQLite files (.sqlite, -wal, -shm),
erases by phone, session or ticket through the admin API, and then looks for them again in every
admin API response and in the raw files. Retention trials backdate planted conversations and run the
retention by `gridkb retention` (the cron job) or by starting the server.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from typer.testing import CliRunner

from gridkb.cli import app as cli
from gridkb.tickets.erasure import ERASED, EXPIRED
from tests.api.conftest import ADMIN_KEY, WIDGET_KEY, live_server, web_settings  # noqa: F401 - session fixtures
from tests.battery.conftest import trials

RETENTION_DAYS = 30
KINDS = ("phone", "session", "ticket")


def _say(widget: httpx.Client, session: str | None, message: str) -> dict:
    response = widget.post("/api/chat", json={"session_id": session, "message": message})
    response.raise_for_status()
    return response.json()


def _customer(rng: random.Random) -> tuple[str, str]:
    """A phone and an address text no other trial uses."""
    phone = "139" + "".join(rng.choice("0123456789") for _ in range(8))
    place = "".join(rng.choice("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉") for _ in range(5)) + "巷"
    return phone, place


def plant(server, phone: str, place: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A customer's conversation, callback details, feedback and an agent's note: (session, ticket)."""
    written = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    with server.client(WIDGET_KEY) as widget:
        offer = _say(widget, None, f"我家在{place}，停电了，转人工")
        session, number = offer["session_id"], offer["ticket_id"]
        _say(widget, session, "需要回电")
        _say(widget, session, written)
        _say(widget, session, f"{place}3栋2单元")
        asked = _say(widget, session, f"电费怎么交？我的电话是 {phone}")
        widget.post("/api/feedback", json={"session_id": session, "message_id": asked["message_id"], "helpful": True,
                                            "comment": f"{place}的师傅很好"}).raise_for_status()
    with server.client(ADMIN_KEY) as admin:
        admin.patch(f"/api/tickets/{number}", json={"action": "note", "note": f"已致电{phone}，核对{place}"}).raise_for_status()
    return session, number


def _files(url: str) -> list[Path]:
    path = Path(url.split("///", 1)[1])
    return [p for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")) if p.exists()]


def in_files(url: str, needles: dict[str, bytes]) -> set[str]:
    """Which needles occur in the raw bytes of the database files."""
    data = [p.read_bytes() for p in _files(url)]
    return {name for name, needle in needles.items() if any(needle in d for d in data)}


def needles_of(phone: str, place: str, session: str) -> dict[str, bytes]:
    return {
        "phone": phone.encode(), "address": place.encode("utf-8"),
        "address (JSON)": json.dumps(place)[1:-1].encode(), "session id": session.encode(),
    }


def in_api(server, phone: str, place: str, numbers: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Admin API responses (who sees everything unmasked) that still show the phone or the address."""
    leaks = []
    with server.client(ADMIN_KEY) as admin:
        paths = ["/api/tickets?limit=500", "/api/gaps", "/api/metrics", "/api/erasures", *(f"/api/tickets/{n}" for n in numbers)]
        for path in paths:
            response = admin.get(path)
            shown = re.sub(r"[\s\-]", "", json.dumps(response.json(), ensure_ascii=False)) if response.status_code == 200 else ""
            if response.status_code != 200:
                leaks.append(f"{path}: status {response.status_code}")
            elif phone in shown or place in shown:
                leaks.append(f"{path} shows the erased data")
            elif path.startswith("/api/tickets/") and response.json()["question"] != ERASED:
                leaks.append(f"{path}: question not replaced")
    return leaks


def test_erasure_removes_planted_data_from_the_api_and_the_database_files(live_server, battery):  # noqa: F811
    url = live_server.settings.service_database_url
    cache = live_server.settings.kb_dir / "embeddings.sqlite"
    rng = random.Random(20261205)
    count = trials(3, 15)
    failures: list[str] = []
    for trial in range(count):
        kind = KINDS[trial % len(KINDS)]
        phone, place = _customer(rng)
        session, number = plant(live_server, phone, place)
        needles = needles_of(phone, place, session)
        missing = set(needles) - in_files(url, needles)
        if missing:
            failures.append(f"trial {trial}: planted {sorted(missing)} not in the database files before erasure (test proves nothing)")
            continue
        body = {"phone": {"phone": f"{phone[:3]} {phone[3:7]} {phone[7:]}"}, "session": {"session_id": session}, "ticket": {"ticket": number}}[kind]
        with live_server.client(ADMIN_KEY) as admin:
            response = admin.post("/api/erasures", json=body)
        if response.status_code != 200:
            failures.append(f"trial {trial} ({kind}): erasure answered {response.status_code} {response.text[:100]}")
            continue
        result = response.json()
        if number not in result["tickets"] or result["sessions"] != 1 or not result["complete"]:
            failures.append(f"trial {trial} ({kind}): erasure reported {result}")
        if phone in response.text or session in response.text or place in response.text:
            failures.append(f"trial {trial} ({kind}): the erasure's audit entry names the erased data")
        failures += [f"trial {trial} ({kind}): {leak}" for leak in in_api(live_server, phone, place, list(result["tickets"]))]
        left = in_files(url, needles)
        if left:
            failures.append(f"trial {trial} ({kind}): {sorted(left)} still in the database files after erasure")
        with sqlite3.connect(cache) as db:
            if db.execute("SELECT COUNT(*) FROM query_embedding").fetchone()[0]:
                failures.append(f"trial {trial} ({kind}): the shared query cache still holds entries")
    battery.record("erasure: planted data gone from API and database files", count, failures)
    assert not failures


def _backdate(url: str, session: str, number: str | None, days: int) -> None:
    """Move a conversation (and its finished ticket) ``days`` days into the past, as if it were old."""
    then = (datetime.now(timezone.utc) - timedelta(days=days)).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(url.split("///", 1)[1], timeout=30) as db:
        db.execute("UPDATE chat_sessions SET created_at = ?, last_active_at = ? WHERE id = ?", (then, then, session))
        db.execute("UPDATE chat_messages SET created_at = ? WHERE session_id = ?", (then, session))
        if number:
            db.execute("UPDATE tickets SET created_at = ?, resolved_at = ?, closed_at = ? WHERE number = ?", (then, then, then, number))


def _finish(server, number: str) -> None:  # type: ignore[no-untyped-def]
    with server.client(ADMIN_KEY) as admin:
        for action in ({"action": "assign", "assignee": "admin"}, {"action": "transition", "status": "in_progress"},
                       {"action": "resolve", "resolution": "已恢复供电"}, {"action": "transition", "status": "closed"}):
            admin.patch(f"/api/tickets/{number}", json=action).raise_for_status()


def _messages(url: str, session: str) -> int:
    with sqlite3.connect(url.split("///", 1)[1], timeout=30) as db:
        return int(db.execute("SELECT COUNT(*) FROM chat_messages WHERE session_id = ?", (session,)).fetchone()[0])


def _run_retention(server, trial: int) -> str:  # type: ignore[no-untyped-def]
    """Retention by the cron command (even trials) or by a server start (odd trials); '' when it ran."""
    settings = server.settings.model_copy(update={"transcript_retention_days": RETENTION_DAYS})
    if trial % 2 == 0:
        args = ["retention", "--days", str(RETENTION_DAYS), "--kb", str(settings.kb_dir), "--db", settings.service_database_url, "--json"]
        result = CliRunner().invoke(cli, args, env={"GRIDKB_CONFIG_DIR": str(settings.config_dir)})
        return "" if result.exit_code == 0 else f"gridkb retention failed: {result.output[-200:]}"
    from fastapi.testclient import TestClient

    from gridkb.api.app import create_app

    with TestClient(create_app(settings)):
        time.sleep(0.5)  # the retention thread starts with the server
    return ""


def test_retention_deletes_transcripts_older_than_the_period(live_server, battery):  # noqa: F811
    url = live_server.settings.service_database_url
    rng = random.Random(20261206)
    count = trials(2, 6)
    failures: list[str] = []
    for trial in range(count):
        old_phone, old_place = _customer(rng)
        old_session, finished = plant(live_server, old_phone, old_place)
        _finish(live_server, finished)
        open_phone, open_place = _customer(rng)
        open_session, still_open = plant(live_server, open_phone, open_place)
        recent_phone, recent_place = _customer(rng)
        recent_session, _ = plant(live_server, recent_phone, recent_place)
        _backdate(url, old_session, finished, RETENTION_DAYS + 1)
        _backdate(url, open_session, None, RETENTION_DAYS + 5)
        failure = _run_retention(live_server, trial)
        deadline = time.monotonic() + 30
        while not failure and _messages(url, old_session) and time.monotonic() < deadline:
            time.sleep(0.2)  # a server start runs the retention in the background
        with live_server.client(ADMIN_KEY) as admin:
            blanked, kept = admin.get(f"/api/tickets/{finished}").json(), admin.get(f"/api/tickets/{still_open}").json()
        checks = {
            "the old conversation is still there": _messages(url, old_session) > 0,
            "the old open ticket's conversation is still there": _messages(url, open_session) > 0,
            "the recent conversation was deleted": _messages(url, recent_session) == 0,
            "the long-finished ticket kept its personal fields": blanked["question"] != EXPIRED or old_phone in json.dumps(blanked),
            "the open ticket lost its data": kept["contact"] != open_phone or not kept["transcript"],
            "the old conversation's bytes are still in the files": bool(in_files(url, needles_of(old_phone, old_place, old_session))),
        }
        failures += [f"trial {trial}: {what}" for what, wrong in checks.items() if wrong]
        failures += [failure] if failure else []
    battery.record("retention: transcripts older than N days deleted", count, failures)
    assert not failures
