"""What the service learns from its conversations: knowledge gaps and service metrics."""

from typing import Any

from fastapi import APIRouter

from gridkb.api import schemas
from gridkb.api.deps import Allowed, Service
from gridkb.api.errors import error_responses
from gridkb.labels import category_name, label

router = APIRouter(tags=["analysis"])


@router.get("/api/gaps", responses=error_responses(503))
def gaps(who: Allowed, service: Service, since: schemas.Moment | None = None) -> list[dict[str, Any]]:
    return [
        {"question": g.question, "count": g.count, "examples": list(g.examples), "category": g.category,
         "department": g.department, "queue": g.queue.value, "last_seen": g.last_seen.isoformat(),
         "category_name": category_name(g.category, service.taxonomy), "queue_label": label(g.queue)}
        for g in service.gaps(since)
    ]


@router.get("/api/metrics", responses=error_responses(503))
def metrics(who: Allowed, service: Service, since: schemas.Moment | None = None) -> dict[str, Any]:
    """Service metrics; ``labels`` and ``category_names`` give the Chinese of every code in them."""
    data = service.metrics(since).to_json()
    codes = {*data["tickets_by_status"], *data["tickets_by_origin"], *(g["queue"] for g in data["top_gaps"])}
    categories = {*data["tickets_by_category"], *(g["category"] for g in data["top_gaps"])}
    data["labels"] = {code: label(code) for code in codes}
    data["category_names"] = {code: category_name(code, service.taxonomy) for code in categories}
    return data
