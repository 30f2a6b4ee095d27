"""What every route depends on: the composition root of this app, its settings, and the caller the
permission gate let in (rate-limited when it is a widget client). ``create_app`` keeps the root and
the authenticator on ``app.state``; nothing here is global."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from gridkb.api.auth import Authenticator, Caller, rule_for
from gridkb.config import Settings
from gridkb.records import Audience, Role
from gridkb.service import GridService


def get_service(request: Request) -> GridService:
    service: GridService = request.app.state.service
    return service


def get_settings(request: Request) -> Settings:
    return get_service(request).settings


def identify(request: Request) -> Caller | None:
    """The caller named by the request's key; None when anonymous or the key is unknown."""
    authenticator: Authenticator = request.app.state.auth
    return authenticator.identify(request.headers.get("authorization"))


def permitted(request: Request, who: Annotated[Caller | None, Depends(identify)]) -> Caller | None:
    """The caller, if the route's rule in ``auth.PERMISSIONS`` lets them in; widget keys are rate-limited.
    Every route depends on it (an app-wide dependency): a route without a rule refuses everyone."""
    refusal = rule_for(request.method, request.scope["route"].path).refusal(who)
    if refusal == 401:
        raise HTTPException(401, "需要认证：请在 Authorization 头中提供 Bearer 密钥", headers={"WWW-Authenticate": "Bearer"})
    if refusal == 403:
        raise HTTPException(403, "当前密钥无权访问此接口")
    if who is not None and who.role is Role.CUSTOMER:
        client = request.client.host if request.client else "unknown"
        allowed, reset = get_service(request).rate_limiter.allow(f"{who.name}:{client}")
        if not allowed:
            raise HTTPException(429, "请求过于频繁，请稍后再试", headers={"Retry-After": str(reset)})
    return who


Service = Annotated[GridService, Depends(get_service)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Allowed = Annotated[Caller, Depends(permitted)]  # the caller the rule let in (cached: the gate runs once a request)


def audience_of(who: Caller) -> Audience:
    """Staff see internal knowledge; the widget only public knowledge."""
    return Audience.INTERNAL if who.staff else Audience.PUBLIC
