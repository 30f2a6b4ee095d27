"""Plain-text formatting of values for people (the CLI's tables): Beijing time, percentages, Chinese
labels for codes, "—" for a missing value. Machines get the raw values from ``--json`` instead."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from gridkb.labels import label
from gridkb.moments import CHINA, in_zone

MISSING = "—"

# keys of a ticket event's detail, as agents read them
_DETAIL_KEYS = {
    "origin": "来源", "department": "部门", "queue": "队列", "reason": "原因", "assignee": "处理人", "note": "备注",
    "from": "原", "to": "新", "resolution": "处理结果", "publish": "发布知识", "generation": "知识库版本",
    "category": "分类", "priority": "优先级", "contact": "联系方式", "comment": "评价内容",
}
# who spoke in a ticket's transcript
_SPEAKERS = {"user": "客户", "customer": "客户", "bot": "机器人", "assistant": "机器人", "agent": "坐席"}


def local_time(moment: datetime | str | None, with_date: bool = True) -> str:
    """A moment in Beijing time ("2026-12-02 15:04"); an ISO string is parsed; naive means UTC."""
    if moment is None or moment == "":
        return MISSING
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return in_zone(moment, CHINA).strftime("%Y-%m-%d %H:%M" if with_date else "%m-%d %H:%M")


def percent(value: float | None) -> str:
    """A ratio 0–1 as a percentage ("61.5%"), or "—" when there was nothing to measure."""
    return MISSING if value is None else f"{value * 100:.1f}%"


def number(value: float | int | None, unit: str = "") -> str:
    """A count or a measured quantity with its unit; "—" when missing."""
    if value is None:
        return MISSING
    text = str(value) if isinstance(value, int) else f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}".strip()


def text(value: Any) -> str:
    """Any field value as words: an enum or code by its Chinese label, a time in Beijing time, "—" if empty."""
    if isinstance(value, Enum):
        return label(value) or MISSING
    if value is None or value == "" or value == () or value == []:
        return MISSING
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Mapping):
        return detail_text(value)
    if isinstance(value, (list, tuple)):
        return "、".join(text(v) for v in value)
    return str(value)


def speaker(role: str) -> str:
    return _SPEAKERS.get(role, label(role))


def detail_text(detail: Mapping[str, Any]) -> str:
    """A ticket event's detail as "部门：营销部；队列：知识缺口", leaving out empty values."""
    parts = [f"{_DETAIL_KEYS.get(key, key)}：{_code_text(value)}" for key, value in detail.items() if value not in (None, "", [], {})]
    return "；".join(parts)


def _code_text(value: Any) -> str:
    return label(value) if isinstance(value, str) else text(value)
