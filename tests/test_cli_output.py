"""What a knowledge operator reads in an 80-column terminal: whole ticket numbers, Chinese labels,
no markup, no Python values (None, dictionaries), every column with a header."""

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from gridkb.cli import _ticket_number
from gridkb.records import TicketOrigin, TicketStatus
from tests.conftest import ROOT

CHINA = timezone(timedelta(hours=8))
PYTHON_VALUES = ("None", "[dim]", "[/", "{", "}", "…")


def run(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "LINES": "50", "GRIDKB_CONFIG_DIR": str(ROOT / "kb")}
    result = subprocess.run([sys.executable, "-m", "gridkb.cli", *args], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    return result.stdout


def assert_readable(output: str) -> None:
    found = [v for v in PYTHON_VALUES if v in output]
    assert not found, f"{found} in:\n{output}"


@pytest.fixture()
def service(desk, clock, built_kb):
    """Two of today's tickets: one from a badly rated bot answer (with a transcript), one opened and assigned by an agent."""
    clock.now = datetime.now(CHINA)  # the serial in `tickets show 2` means today's numbering
    reply = desk.chat(None, "电费可以在哪里交？")
    _, rated = desk.feedback(reply.session_id, reply.message_id, helpful=False, comment="没说清楚")
    opened = desk.tickets.open(TicketOrigin.AGENT, "家里闻到电线烧焦味，需要上门检查", "agent-1", category="outage", contact="13812345678")
    desk.tickets.assign(opened.number, "agent-7", "lead")
    settings = desk.settings
    return ["--kb", str(settings.kb_dir), "--db", settings.database_url], rated, opened


def test_ticket_numbers_are_never_cut_and_statuses_read_in_chinese(service):
    options, rated, opened = service
    output = run("tickets", "list", *options)
    assert rated.number in output and opened.number in output
    assert "已分派" in output and "assigned" not in output
    assert_readable(output)


def test_tickets_show_accepts_the_full_number_and_todays_serial(service):
    options, rated, opened = service
    serial = str(int(opened.number.rsplit("-", 1)[1]))
    by_serial = run("tickets", "show", serial, *options)
    assert opened.number in by_serial and "停电与故障抢修" in by_serial and "处理记录" in by_serial
    assert "已分派" in by_serial and "agent-7" in by_serial
    assert_readable(by_serial)
    full = run("tickets", "show", rated.number, *options)
    assert rated.number in full and "对话记录" in full and "电费可以在哪里交" in full and "客户差评" in full
    assert_readable(full)


def test_metrics_show_percentages_and_breakdowns_not_python_values(service):
    options, _, _ = service
    output = run("metrics", *options)
    assert "有用率" in output and "0.0%" in output  # the one rating was "not helpful"
    assert "工单按状态" in output and "已分派" in output and "停电与故障抢修" in output
    assert "—" in output  # nothing measured yet for, e.g., time to resolution
    assert_readable(output)


def test_kb_report_has_every_header_and_whole_category_names(built_kb):
    settings, _, _ = built_kb
    output = run("kb", "report", "--kb", str(settings.kb_dir))
    header = next(line for line in output.splitlines() if "分类代码" in line)
    assert re.findall(r"\S+", header.replace("┃", " ")) == ["分类代码", "分类名称", "归口部门", "文件", "段落", "问答", "覆盖"]
    coverage = output.split("重复组")[0]
    assert "…" not in coverage  # names and departments wrap, never end in an ellipsis


def test_kb_stats_explains_terms(built_kb):
    settings, _, _ = built_kb
    output = run("kb", "stats", "--kb", str(settings.kb_dir))
    assert "术语" in output and "术语和定义" in output


def test_ticket_number_forms():
    now = datetime(2026, 12, 2, 7, 30, tzinfo=CHINA)  # still 1 December in UTC, the day numbers are counted by
    assert _ticket_number("12", now) == "GD20261201-000012"
    assert _ticket_number("gd20261202-000012", now) == "GD20261202-000012"
    assert _ticket_number("20261202-12", now) == "GD20261202-000012"
    assert _ticket_number("GD20261202-000012", now) == "GD20261202-000012"
