"""Temporary notices (planned outages, tariff changes) the bot tells customers about."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from gridkb.api import schemas
from gridkb.api.deps import Allowed, Service
from gridkb.api.errors import error_responses
from gridkb.labels import label
from gridkb.records import Notice
from gridkb.service import GridService

router = APIRouter(tags=["notices"])


@router.get("/api/notices", response_model=list[schemas.NoticeOut])
def notices(who: Allowed, service: Service, include_all: Annotated[bool, Query(alias="all")] = False) -> list[dict[str, Any]]:
    board = service.notices
    return [_notice(n, service) for n in (board.all() if include_all else board.active())]


@router.post("/api/notices", response_model=schemas.NoticeOut, status_code=201)
def add_notice(body: schemas.NoticeIn, who: Allowed, service: Service) -> dict[str, Any]:
    notice = service.notices.publish(
        body.kind, body.title, body.areas, body.starts_at, body.ends_at, body.cause, body.restoration, body.body, who.name
    )
    return _notice(notice, service)


@router.post("/api/notices/{notice_id}/expire", response_model=schemas.NoticeOut, responses=error_responses(404))
def expire_notice(notice_id: Annotated[str, PathParam(max_length=64)], who: Allowed, service: Service) -> dict[str, Any]:
    return _notice(service.notices.expire(notice_id), service)


def _notice(notice: Notice, service: GridService) -> dict[str, Any]:
    return notice.to_dict() | {"active": notice.active(service.clock()), "kind_label": label(notice.kind)}
