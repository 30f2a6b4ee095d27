"""Library errors → HTTP status codes, and the one body of every error response (``schemas.ErrorOut``):
``detail`` for a person, the refused fields in ``errors``. The OpenAPI document lists each
operation's error responses from its permission rule, its parameters and its body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridkb.api import schemas
from gridkb.api.auth import rule_for
from gridkb.errors import (
    AssignmentRefusedError,
    ConcurrentUpdateError,
    ConflictAlreadyDecidedError,
    ConflictDecisionError,
    FileTooLargeError,
    GenerationError,
    GridkbError,
    InvalidIdentifierError,
    InvalidMessageError,
    InvalidNoticeError,
    InvalidTransitionError,
    InvalidUploadError,
    KnowledgeBaseMissingError,
    NotFoundError,
    ReviewRefusedError,
    TicketError,
)
from gridkb.records import Role

# the first entry a raised error is an instance of decides its status: subclasses before their bases
STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (NotFoundError, 404), (KnowledgeBaseMissingError, 503), (GenerationError, 503), (ConcurrentUpdateError, 409), (InvalidTransitionError, 409),
    (InvalidNoticeError, 422), (FileTooLargeError, 413), (InvalidUploadError, 422), (InvalidMessageError, 422),
    (AssignmentRefusedError, 403), (ReviewRefusedError, 403), (TicketError, 422), (ConflictAlreadyDecidedError, 409),
    (ConflictDecisionError, 422), (InvalidIdentifierError, 422), (GridkbError, 400),
)

ERROR_MEANINGS = {
    400: "the body cannot be read (not UTF-8 JSON or form data), or the request cannot be served as given: `detail` says why",
    401: "no key, or an unknown one: send `Authorization: Bearer KEY`",
    403: "this key's role may not do this",
    404: "no such record",
    409: "the record is not in a state that allows this (or changed meanwhile)",
    413: "the request body is too large",
    422: "refused: `detail` says why; the fields that failed validation are listed in `errors`",
    429: "too many requests from this widget client: retry after `Retry-After` seconds",
    503: "no knowledge base has been built yet, or the current one cannot be read",
}


def status_of(error: Exception) -> int:
    """The HTTP status of a library error."""
    return next(code for kind, code in STATUSES if isinstance(error, kind))


def install_error_handlers(app: FastAPI, routes: Sequence[APIRoute]) -> None:
    """Library errors, HTTP errors and refused requests all answer in ``schemas.ErrorOut``; a 405 names
    the methods of every one of ``routes`` that has the path."""

    async def library_error(request: Request, error: Exception) -> JSONResponse:
        return error_response(status_of(error), str(error))

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        headers = error.headers
        if error.status_code == 405:  # Starlette names only the first route of the path; list all of them
            headers = {"Allow": ", ".join(_methods_of(routes, request.url.path))}
        return error_response(error.status_code, str(error.detail), headers=headers)

    async def refused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        fields = error.errors()
        return error_response(422, "请求无效：" + "；".join(_field_message(e) for e in fields[:5]), [_field_error(e) for e in fields])

    for kind, _ in STATUSES:
        app.add_exception_handler(kind, library_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, refused)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI error responses (``schemas.ErrorOut``) a route declares beside those ``document_errors`` adds."""
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    return {code: {"description": ERROR_MEANINGS[code], "content": body} for code in codes}


def document_errors(app: FastAPI, routes: Sequence[APIRoute]) -> None:
    """Every operation of ``routes`` in the OpenAPI document lists its error responses, all in one shape
    (``schemas.ErrorOut``, in place of FastAPI's validation-only 422), and the key it needs."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            shared = schemas.ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(shared.pop("$defs", {}), ErrorOut=shared)
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
            document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer", "description": "the widget key, or an agent/admin key"}}
            for route in routes:
                if route.include_in_schema:
                    for method in route.methods or ():
                        _document_operation(document["paths"][route.path_format][method.lower()], route, method)
        assert app.openapi_schema is not None  # set by FastAPI's generator
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_operation(operation: dict[str, Any], route: APIRoute, method: str) -> None:
    operation["responses"].update({str(code): spec for code, spec in error_responses(*_route_errors(route, method)).items()})
    if not rule_for(method, route.path).anonymous:
        operation["security"] = [{"bearer": []}]


def _route_errors(route: APIRoute, method: str) -> list[int]:
    """The errors any route can answer: from its permission rule, its parameters and its body."""
    rule = rule_for(method, route.path)
    codes = set()
    if not rule.anonymous:
        codes.add(401)
        if {Role.CUSTOMER, Role.AGENT, Role.ADMIN} - rule.roles:
            codes.add(403)
        if Role.CUSTOMER in rule.roles:
            codes.add(429)
    if route.body_field is not None:
        codes |= {400, 413, 422}  # 400: the body is not text
    if get_flat_params(route.dependant):  # path, query, header and cookie parameters
        codes.add(422)
    return sorted(codes)


def error_response(
    status: int, detail: str, errors: list[dict[str, Any]] | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The body of every error response (``schemas.ErrorOut``); text that cannot be encoded
    (a lone surrogate echoed from the request) is replaced, never a reason for a 500."""
    body = {"detail": _printable(detail), "errors": errors or []}
    return JSONResponse(body, status_code=status, headers=headers)


def _methods_of(routes: Sequence[APIRoute], path: str) -> list[str]:
    return sorted({m for r in routes if r.path_regex.match(path) for m in r.methods or ()})


def _printable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _field_error(error: Any) -> dict[str, Any]:
    # the refused input is not echoed: it may be large, or a customer's personal data
    loc = [part if isinstance(part, int) else _printable(str(part)) for part in error["loc"]]
    return {"loc": loc, "msg": _printable(_field_text(error)), "type": error["type"]}


def _field_message(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0])
    return _printable(f"{where}: {_field_text(error)}")


def _field_text(error: Any) -> str:
    if error["type"] == "string_pattern_mismatch" and (error.get("ctx") or {}).get("pattern") == schemas.VISIBLE:
        return "不能为空白"
    return str(error["msg"]).removeprefix("Value error, ")
