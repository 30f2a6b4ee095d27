"""Customers' personal data: erasure on request, and its audit log."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gridkb.api import schemas
from gridkb.api.deps import Allowed, Service
from gridkb.api.errors import error_responses

router = APIRouter(tags=["privacy"])


@router.post("/api/erasures", response_model=schemas.ErasureOut, responses=error_responses(404))
def erase_customer(body: schemas.ErasureRequest, who: Allowed, service: Service) -> dict[str, Any]:
    """Delete a customer's personal data on request, found by phone, session or ticket: their chat
    sessions, messages and feedback go; their tickets keep number, status, category and dates with
    the personal fields replaced; the query cache is emptied. Audited without the erased data."""
    return service.erase(*_identifier(body), who.name).to_dict()


@router.get("/api/erasures", response_model=list[schemas.ErasureOut])
def erasure_log(who: Allowed, service: Service, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """The audit log of erasures and retention runs, newest first."""
    return [e.to_dict() for e in service.erasure.log(limit)]


def _identifier(body: schemas.ErasureRequest) -> tuple[str, str]:
    """(kind, value) of the one identifier the body gives."""
    if isinstance(body, schemas.ErasureByPhone):
        return "phone", body.phone
    if isinstance(body, schemas.ErasureBySession):
        return "session", body.session_id
    return "ticket", body.ticket
