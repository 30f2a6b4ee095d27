"""The knowledge base: search, recommendations, the knowledge graph, and the organisation report with
the admins' rulings on conflicts."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from gridkb.api import schemas
from gridkb.api.deps import Allowed, Service, audience_of
from gridkb.api.errors import error_responses
from gridkb.api.views import report_view
from gridkb.labels import category_name, label

router = APIRouter(tags=["knowledge"])


@router.get("/api/search", response_model=list[schemas.SearchHitOut], responses=error_responses(503))
def search(
    who: Allowed,
    service: Service,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    k: Annotated[int, Query(ge=1, le=50)] = 10,
    category: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    hits = service.search(q, k=k, category=category or None, audience=audience_of(who))
    return [
        {**h.to_dict(), "category_name": category_name(h.chunk.category, service.taxonomy), "audience_label": label(h.chunk.audience)}
        for h in hits
    ]


@router.get("/api/recommend", response_model=schemas.Recommendations, responses=error_responses(503))
def recommend(who: Allowed, service: Service, q: Annotated[str, Query(min_length=1, max_length=500)]) -> dict[str, Any]:
    return service.recommend(q, k=5, audience=audience_of(who)).to_dict()


@router.get("/api/graph", responses=error_responses(404, 503))
def graph(who: Allowed, service: Service, entity: Annotated[str, Query(min_length=1, max_length=50)]) -> dict[str, Any]:
    found = service.explore(entity)
    for node in found["nodes"]:
        node["type_label"] = label(node["type"])
    for edge in found["edges"]:
        edge["label"] = label(edge["type"])
    return found


@router.get("/api/kb/report", responses=error_responses(503))
def kb_report(who: Allowed, service: Service) -> dict[str, Any]:
    """Coverage, duplicate groups (canonical item and copies) and conflicts with their state."""
    return report_view(service.kb_report(), service.taxonomy)


@router.post("/api/kb/conflicts/{conflict_id}/decision", responses=error_responses(404, 409, 503))
def decide_conflict(
    conflict_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$")], body: schemas.ConflictDecisionIn, who: Allowed, service: Service
) -> dict[str, Any]:
    """An admin rules which statement of an undecided conflict holds; kept with who and when."""
    conflict = service.decide_conflict(conflict_id, body.preferred, who.name, body.note)
    return {"id": conflict.id, "preferred": conflict.preferred, "decided_by": conflict.decided_by, "reason": conflict.reason}
