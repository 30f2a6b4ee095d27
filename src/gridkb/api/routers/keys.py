"""Agent and admin keys of the API: created (shown once), listed, revoked at once on every worker."""

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from gridkb.api import schemas
from gridkb.api.deps import Allowed, Service
from gridkb.api.errors import error_responses
from gridkb.errors import NotFoundError
from gridkb.records import ApiKeyInfo, Role

router = APIRouter(tags=["service"])


@router.post("/api/keys", response_model=schemas.KeyOut, status_code=201)
def create_key(body: schemas.KeyRequest, who: Allowed, service: Service) -> dict[str, Any]:
    """A key for an agent or another admin; shown once, stored only as a hash."""
    key, key_id = service.keys.create(body.name, Role(body.role), body.department)
    return {"id": key_id, "name": body.name, "role": body.role, "key": key, "department": body.department.strip()}


@router.get("/api/keys", response_model=list[schemas.KeyInfo])
def list_keys(who: Allowed, service: Service) -> list[schemas.KeyInfo]:
    """Agent and admin keys with their state; the keys themselves are never stored."""
    return [_key_info(k) for k in service.keys.listing()]


@router.delete("/api/keys/{key_id}", status_code=204, responses=error_responses(404))
def revoke_key(key_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{12}$")], who: Allowed, service: Service) -> None:
    """Revoke a key at once, on every worker (a lost laptop, a colleague who left)."""
    if not service.keys.revoke(key_id):
        raise NotFoundError("没有这个有效的密钥")


def _key_info(key: ApiKeyInfo) -> schemas.KeyInfo:
    return schemas.KeyInfo(
        id=key.id, name=key.name, role=key.role.value, department=key.department, created_at=key.created_at, revoked_at=key.revoked_at
    )
