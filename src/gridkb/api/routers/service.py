"""Health of the service and who the caller is."""

from typing import Any

from fastapi import APIRouter

from gridkb.api import schemas
from gridkb.api.deps import Allowed, Service
from gridkb.api.errors import error_responses
from gridkb.labels import label

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=schemas.Health, responses=error_responses(503))
def healthz(service: Service) -> dict[str, Any]:
    stats = service.kb_stats()
    return {"status": "ok", "documents": stats.documents, "chunks": stats.chunks}


@router.get("/api/whoami")
def whoami(who: Allowed) -> dict[str, str]:
    return {"name": who.name, "role": who.role.value, "role_label": label(who.role)}
