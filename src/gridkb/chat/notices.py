"""Temporary notices: planned and fault outages in named areas, tariff changes from a date.

Operators publish them; when a customer reports a power cut or names an area, the bot answers from
the matching notice first. Notices expire by themselves at their end time and stay on record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from gridkb.errors import InvalidNoticeError, NoticeNotFoundError
from gridkb.moments import CHINA, in_zone
from gridkb.privacy import mask_personal_data
from gridkb.production.normalize import normalize_query
from gridkb.records import Notice
from gridkb.storage.protocols import ServiceStorage

KINDS = ("planned_outage", "fault_outage", "tariff", "other")
KIND_NAMES = {"planned_outage": "计划停电", "fault_outage": "故障停电", "tariff": "电价调整", "other": "公告"}
MAX_AREAS = 50


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class NoticeMatch:
    notice: Notice
    area: str  # the area named in the message that matched

    def answer(self) -> str:
        """The reply a customer gets: what, where, why, until when."""
        n = self.notice
        when = f"{_local(n.starts_at)} 至 {_local(n.ends_at)}"
        parts = [f"【{KIND_NAMES.get(n.kind, '公告')}】{n.title}", f"影响范围：{'、'.join(n.areas)}", f"时间：{when}"]
        if n.cause:
            parts.append(f"原因：{n.cause}")
        if n.restoration:
            parts.append(f"恢复：{n.restoration}")
        if n.body:
            parts.append(n.body)
        return "\n".join(parts)


def _local(moment: datetime) -> str:
    """Beijing time, as customers read it."""
    local = in_zone(moment, CHINA)
    return f"{local.year:04d}-{local:%m-%d %H:%M}"  # %Y drops the zeros of year 1


class NoticeBoard:
    def __init__(self, store: ServiceStorage, clock: Callable[[], datetime] = _now) -> None:
        self.store = store
        self.clock = clock

    def publish(
        self, kind: str, title: str, areas: list[str], starts_at: datetime, ends_at: datetime,
        cause: str = "", restoration: str = "", body: str = "", created_by: str = "",
    ) -> Notice:
        areas = [a.strip() for a in areas if a and a.strip()]
        if kind not in KINDS:
            raise InvalidNoticeError(f"未知的公告类型 '{kind}'（可选：{', '.join(KINDS)}）")
        if not title.strip():
            raise InvalidNoticeError("公告标题不能为空")
        if not areas or len(areas) > MAX_AREAS:
            raise InvalidNoticeError(f"请填写 1–{MAX_AREAS} 个影响区域（街道、小区、片区名）")
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise InvalidNoticeError("开始和结束时间须带时区")
        if ends_at <= starts_at:
            raise InvalidNoticeError("结束时间须晚于开始时间")
        notice = Notice(
            kind, title.strip(), tuple(dict.fromkeys(areas)), starts_at, ends_at, mask_personal_data(cause.strip()),
            mask_personal_data(restoration.strip()), mask_personal_data(body.strip()), created_by, self.clock(),
        )
        return self.store.add_notice(notice)

    def active(self) -> list[Notice]:
        return self.store.notices(active_at=self.clock())

    def all(self) -> list[Notice]:
        return self.store.notices()

    def expire(self, notice_id: str) -> Notice:
        notice = self.store.expire_notice(notice_id, self.clock())
        if notice is None:
            raise NoticeNotFoundError(f"没有编号为 {notice_id} 的公告")
        return notice

    def match(self, message: str, kinds: tuple[str, ...] = KINDS) -> list[NoticeMatch]:
        """Active notices of ``kinds`` whose area the message names (longest area name first)."""
        text = normalize_query(message)
        matches = []
        for notice in self.active():
            if notice.kind not in kinds:
                continue
            named = [a for a in sorted(notice.areas, key=len, reverse=True) if _names(text, a)]
            if named:
                matches.append(NoticeMatch(notice, named[0]))
        return matches


def _names(text: str, area: str) -> bool:
    """The message names the area: in full, or with another suffix (幸福小区 ~ 幸福社区, 人民路 ~ 人民街道),
    never by a bare prefix (幸福小区 is not 幸福家园)."""
    area = normalize_query(area)
    if area in text:
        return True
    core = re.sub(_AREA_SUFFIX + "$", "", area)
    return len(core) >= 2 and core != area and re.search(re.escape(core) + _AREA_SUFFIX, text) is not None


_AREA_SUFFIX = r"(街道|社区|小区|片区|村委会|村|镇|区|路|街|大道|一带|附近)"
