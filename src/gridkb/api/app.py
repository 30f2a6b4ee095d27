"""The HTTP API, the chat widget, the agent console and the demo page, over the service desk.

A thin shell: every endpoint checks who is calling, validates the request, makes one library call
and shapes the answer. Nothing of a conversation lives in the process: sessions, tickets, jobs and
rate-limit counters are in the database (or Redis), so any number of workers serve the same
customers. Start it with ``gridkb serve`` or ``uvicorn --factory gridkb.api.app:create_app``.
"""


import asyncio
import html
import json
import logging
import os
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from dataclasses import replace
from typing import Annotated, Any, Literal

import anyio
from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridkb.api import schemas
from gridkb.api.auth import Authenticator, Caller, RateLimiter, rule_for
from gridkb.api.logs import install_log_masking
from gridkb.api.views import report_view, ticket_labels
from gridkb.application.explore import neighbourhood
from gridkb.config import Settings
from gridkb.errors import (
    AssignmentRefusedError,
    ConcurrentUpdateError,
    ConflictAlreadyDecidedError,
    ConflictDecisionError,
    GridkbError,
    InvalidIdentifierError,
    InvalidMessageError,
    InvalidNoticeError,
    InvalidTransitionError,
    InvalidUploadError,
    KnowledgeBaseMissing,
    NotFound,
    TicketError,
)
from gridkb.labels import category_name, label
from gridkb.production.documents import SourceRoot
from gridkb.production.uploads import UploadedFile, UploadMeta, save_upload
from gridkb.records import Audience, Priority, Role, Ticket, TicketOrigin, TicketStatus
from gridkb.storage.counters import open_counters
from gridkb.tickets.desk import ServiceDesk
from gridkb.tickets.erasure import CustomerIdentifier

WEB = Path(__file__).resolve().parent.parent / "web"
STREAM_PIECE = 12  # characters per server-sent event
log = logging.getLogger("gridkb.api")


class BodyLimit:
    """Refuse request bodies over the limit with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"] == "/api/documents" else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLargeError()
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLargeError:
            await _too_large(send, limit)


class _BodyTooLargeError(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"请求过大：最多 {limit // 1024} KB"}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    desk = ServiceDesk(settings)
    auth = Authenticator(settings, desk.keys)
    limiter = RateLimiter(settings.widget_rate_per_minute, open_counters(settings.redis_url, desk.store))
    install_log_masking()  # access log (query strings), tracebacks of a 500, every gridkb logger

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # CPU-bound handlers in many threads only fight over the GIL: a few threads per worker
        # serve more requests per second, and the rest wait their turn in the event loop
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.handler_threads
        # models loaded and FAQ wordings analysed in the background, not on the first customer's question
        threading.Thread(target=_warm_up, args=(desk,), name="gridkb-warm-up", daemon=True).start()
        stop_retention = threading.Event()
        if settings.transcript_retention_days:  # old conversations deleted at start, then every few hours
            args = (desk, settings.transcript_retention_days, stop_retention)
            threading.Thread(target=_retention_loop, args=args, name="gridkb-retention", daemon=True).start()
        yield
        stop_retention.set()

    app = FastAPIOffline(
        lifespan=lifespan,
        title="gridkb",
        version="0.1.0",
        description="Knowledge service and customer-service bot of the 95598 service centre. "
        "Authenticate with `Authorization: Bearer KEY`: the widget key (chat, feedback, recommendations) or an agent/admin key.",
    )
    app.state.desk = desk
    app.state.auth = auth
    app.add_middleware(BodyLimit, limit=settings.max_request_kb * 1024, upload_limit=settings.max_file_bytes * 5)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type"], max_age=600,
        )
    _errors(app)

    @app.middleware("http")
    async def served_by(request: Request, call_next: Callable[[Request], Any]) -> Any:
        response = await call_next(request)
        response.headers["X-Served-By"] = str(os.getpid())  # which worker: for operators and the two-worker test
        return response

    _routes(app, settings, desk, auth, limiter)
    _pages(app, settings)
    _document_errors(app)
    return app


def _errors(app: FastAPI) -> None:
    statuses: list[tuple[type[Exception], int]] = [
        (NotFound, 404), (KnowledgeBaseMissing, 503), (ConcurrentUpdateError, 409), (InvalidTransitionError, 409), (InvalidNoticeError, 422), (InvalidUploadError, 422),
        (InvalidMessageError, 422), (AssignmentRefusedError, 403), (TicketError, 422), (ConflictAlreadyDecidedError, 409), (ConflictDecisionError, 422), (InvalidIdentifierError, 422), (GridkbError, 400),
    ]

    async def handler(request: Request, error: Exception) -> JSONResponse:
        status = next(code for kind, code in statuses if isinstance(error, kind))
        return _error(status, str(error))

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        headers = error.headers
        if error.status_code == 405:  # Starlette names only the first route of the path; list all of them
            headers = {"Allow": ", ".join(_methods_of(app, request.url.path))}
        return _error(error.status_code, str(error.detail), headers=headers)

    async def refused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return _error(422, "请求无效：" + "；".join(_field_message(e) for e in error.errors()[:5]), errors=[_field_error(e) for e in error.errors()])

    for kind, _ in statuses:
        app.add_exception_handler(kind, handler)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, refused)


ERROR_MEANINGS = {
    400: "the body cannot be read (not UTF-8 JSON or form data), or the request cannot be served as given: `detail` says why",
    401: "no key, or an unknown one: send `Authorization: Bearer KEY`",
    403: "this key's role may not do this",
    404: "no such record",
    409: "the record is not in a state that allows this (or changed meanwhile)",
    413: "the request body is too large",
    422: "refused: `detail` says why; the fields that failed validation are listed in `errors`",
    429: "too many requests from this widget client: retry after `Retry-After` seconds",
    503: "no knowledge base has been built yet",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI error responses (``schemas.ErrorOut``) a route declares beside those of ``_document_errors``."""
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    return {code: {"description": ERROR_MEANINGS[code], "content": body} for code in codes}


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


def _document_errors(app: FastAPI) -> None:
    """Every operation of the OpenAPI document lists its error responses, all in one shape
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
            for route in app.routes:
                if isinstance(route, APIRoute) and route.include_in_schema:
                    for method in route.methods:
                        operation = document["paths"][route.path_format][method.lower()]
                        operation["responses"].update({str(code): spec for code, spec in errors(*_route_errors(route, method)).items()})
                        if not rule_for(method, route.path).anonymous:
                            operation["security"] = [{"bearer": []}]
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _error(status: int, detail: str, errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """The body of every error response (``schemas.ErrorOut``); text that cannot be encoded
    (a lone surrogate echoed from the request) is replaced, never a reason for a 500."""
    body = {"detail": _printable(detail), "errors": errors or []}
    return JSONResponse(body, status_code=status, headers=headers)


def _methods_of(app: FastAPI, path: str) -> list[str]:
    return sorted({m for r in app.routes if isinstance(r, APIRoute) and r.path_regex.match(path) for m in r.methods})


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


def _routes(app: FastAPI, settings: Settings, desk: ServiceDesk, auth: Authenticator, limiter: RateLimiter) -> None:
    def caller(request: Request) -> Caller | None:
        return auth.identify(request.headers.get("authorization"))

    def permitted(request: Request, who: Annotated[Caller | None, Depends(caller)]) -> Caller | None:
        """The caller, if the route's rule in ``auth.PERMISSIONS`` lets them in; widget keys are rate-limited.
        Every route depends on it (an app-wide dependency): a route without a rule refuses everyone."""
        refusal = rule_for(request.method, request.scope["route"].path).refusal(who)
        if refusal == 401:
            raise HTTPException(401, "需要认证：请在 Authorization 头中提供 Bearer 密钥", headers={"WWW-Authenticate": "Bearer"})
        if refusal == 403:
            raise HTTPException(403, "当前密钥无权访问此接口")
        if who is not None and who.role is Role.CUSTOMER:
            client = request.client.host if request.client else "unknown"
            allowed, reset = limiter.allow(f"{who.name}:{client}")
            if not allowed:
                raise HTTPException(429, "请求过于频繁，请稍后再试", headers={"Retry-After": str(reset)})
        return who

    app.router.dependencies.append(Depends(permitted))
    Allowed = Annotated[Caller, Depends(permitted)]  # the caller the rule let in (cached: the gate runs once)

    def audience(who: Caller) -> Audience:
        return Audience.INTERNAL if who.staff else Audience.PUBLIC

    @app.get("/healthz", response_model=schemas.Health, tags=["service"], responses=errors(503))
    def healthz() -> dict[str, Any]:
        stats = desk.live.current().kb.stats()
        return {"status": "ok", "documents": stats.documents, "chunks": stats.chunks}

    @app.post("/api/chat", response_model=schemas.ChatResponse, tags=["chat"], responses=errors(404, 503))
    def chat(body: schemas.ChatRequest, who: Allowed) -> dict[str, Any]:
        """One customer message; a new conversation when ``session_id`` is null."""
        reply = desk.chat(body.session_id, body.message, channel="widget" if not who.staff else "agent", audience=audience(who))
        return reply.to_json()

    @app.post("/api/chat/stream", tags=["chat"], response_class=StreamingResponse,
              responses={200: {"content": {"text/event-stream": {}}, "description": "`delta` events with pieces of the answer, then `done` with the whole reply"}, **errors(404, 503)})
    async def chat_stream(body: schemas.ChatRequest, who: Allowed) -> StreamingResponse:
        """The same reply as ``/api/chat``, as Server-Sent Events."""
        reply = await run_in_threadpool(
            desk.chat, body.session_id, body.message, "widget" if not who.staff else "agent", audience(who)
        )
        return StreamingResponse(_events(reply.to_json()), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/api/feedback", response_model=schemas.FeedbackResponse, tags=["chat"], responses=errors(404))
    def feedback(body: schemas.FeedbackRequest, who: Allowed) -> dict[str, Any]:
        _, ticket = desk.feedback(body.session_id, body.message_id, body.helpful, body.rating, body.comment or "")
        return {"ok": True, "ticket_id": ticket.number if ticket else None}

    @app.get("/api/search", response_model=list[schemas.SearchHitOut], tags=["knowledge"], responses=errors(503))
    def search(
        who: Allowed,
        q: Annotated[str, Query(min_length=1, max_length=500)],
        k: Annotated[int, Query(ge=1, le=50)] = 10,
        category: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[dict[str, Any]]:
        hits = desk.live.current().answerer.search(q, k=k, category=category or None, audience=audience(who))
        return [
            {**h.to_dict(), "category_name": category_name(h.chunk.category, desk.taxonomy), "audience_label": label(h.chunk.audience)}
            for h in hits
        ]

    @app.get("/api/recommend", response_model=schemas.Recommendations, tags=["knowledge"], responses=errors(503))
    def recommend(who: Allowed, q: Annotated[str, Query(min_length=1, max_length=500)]) -> dict[str, Any]:
        return desk.recommend(q, k=5, audience=audience(who)).to_dict()

    @app.get("/api/tickets", response_model=list[schemas.TicketOut], tags=["tickets"])
    def tickets(
        who: Allowed,
        status: Annotated[list[TicketStatus] | None, Query()] = None,
        department: Annotated[str | None, Query(max_length=64)] = None,
        category: Annotated[str | None, Query(max_length=64)] = None,
        overdue: bool = False,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=100000)] = 0,
        sort: Annotated[Literal["newest", "urgency"], Query(description="urgency: open tickets first, by priority, then due time")] = "newest",
    ) -> list[dict[str, Any]]:
        found = desk.tickets.queue(
            status or [], department or None, category or None, overdue=overdue, limit=limit, offset=offset, urgent_first=sort == "urgency"
        )
        return [_ticket(desk, t, who, detail=False) for t in found]

    TicketCreate = schemas.ticket_create_for([c.code for c in (*desk.taxonomy.categories, *desk.taxonomy.children)])

    @app.post("/api/tickets", response_model=schemas.TicketOut, status_code=201, tags=["tickets"])
    def create_ticket(body: TicketCreate, who: Allowed) -> dict[str, Any]:
        ticket = desk.tickets.open(
            TicketOrigin.AGENT, body.question, who.name, category=body.category, contact=body.contact,
            priority=Priority(body.priority) if body.priority else None,
        )
        return _ticket(desk, ticket, who)

    @app.get("/api/tickets/{number}", response_model=schemas.TicketOut, tags=["tickets"], responses=errors(404))
    def get_ticket(number: Annotated[str, PathParam(max_length=32)], who: Allowed) -> dict[str, Any]:
        return _ticket(desk, desk.tickets.get(number), who)

    @app.patch("/api/tickets/{number}", response_model=schemas.TicketOut, tags=["tickets"], responses=errors(404, 409))
    def patch_ticket(number: Annotated[str, PathParam(max_length=32)], body: schemas.TicketPatch, who: Allowed) -> dict[str, Any]:
        """Lifecycle: ``transition`` (status), ``assign`` (assignee), ``route`` (department), ``resolve``
        (resolution, publish), ``contacted``, ``note``; admins: ``approve`` / ``reject`` a published answer."""
        service = desk.tickets
        if body.action == "transition":
            ticket = service.transition(number, TicketStatus(body.status), who.name, body.note)
        elif body.action == "assign":
            ticket = service.assign(number, body.assignee or "", who.name, body.note, who.role, who.department)
        elif body.action == "route":
            ticket = service.route(number, body.department or "", who.name, body.note)
        elif body.action == "resolve":
            ticket = service.resolve(number, body.resolution or "", who.name, body.publish)
        elif body.action == "contacted":
            ticket = service.mark_first_response(number, who.name, body.note)
        elif body.action == "note":
            ticket = service.note(number, who.name, body.note)
        else:
            if who.role is not Role.ADMIN:
                raise HTTPException(403, "只有管理员可以审核发布到知识库的答案")
            ticket = desk.publisher.approve(number, who.name)[0] if body.action == "approve" else desk.publisher.reject(number, who.name, body.note)
        return _ticket(desk, ticket, who)

    @app.get("/api/gaps", tags=["analysis"], responses=errors(503))
    def gaps(who: Allowed, since: schemas.Moment | None = None) -> list[dict[str, Any]]:
        return [
            {"question": g.question, "count": g.count, "examples": list(g.examples), "category": g.category,
             "department": g.department, "queue": g.queue.value, "last_seen": g.last_seen.isoformat(),
             "category_name": category_name(g.category, desk.taxonomy), "queue_label": label(g.queue)}
            for g in desk.gaps(since)
        ]

    @app.get("/api/metrics", tags=["analysis"], responses=errors(503))
    def metrics(who: Allowed, since: schemas.Moment | None = None) -> dict[str, Any]:
        """Service metrics; ``labels`` and ``category_names`` give the Chinese of every code in them."""
        data = desk.metrics(since).to_json()
        codes = {*data["tickets_by_status"], *data["tickets_by_origin"], *(g["queue"] for g in data["top_gaps"])}
        categories = {*data["tickets_by_category"], *(g["category"] for g in data["top_gaps"])}
        data["labels"] = {code: label(code) for code in codes}
        data["category_names"] = {code: category_name(code, desk.taxonomy) for code in categories}
        return data

    @app.get("/api/notices", response_model=list[schemas.NoticeOut], tags=["notices"])
    def notices(who: Allowed, include_all: Annotated[bool, Query(alias="all")] = False) -> list[dict[str, Any]]:
        board = desk.notices
        now = desk.clock()
        return [n.to_dict() | {"active": n.active(now), "kind_label": label(n.kind)} for n in (board.all() if include_all else board.active())]

    @app.post("/api/notices", response_model=schemas.NoticeOut, status_code=201, tags=["notices"])
    def add_notice(body: schemas.NoticeIn, who: Allowed) -> dict[str, Any]:
        notice = desk.notices.publish(
            body.kind, body.title, body.areas, body.starts_at, body.ends_at, body.cause, body.restoration, body.body, who.name
        )
        return notice.to_dict() | {"active": notice.active(desk.clock()), "kind_label": label(notice.kind)}

    @app.post("/api/notices/{notice_id}/expire", response_model=schemas.NoticeOut, tags=["notices"], responses=errors(404))
    def expire_notice(notice_id: Annotated[str, PathParam(max_length=64)], who: Allowed) -> dict[str, Any]:
        notice = desk.notices.expire(notice_id)
        return notice.to_dict() | {"active": notice.active(desk.clock()), "kind_label": label(notice.kind)}

    @app.get("/api/graph", tags=["knowledge"], responses=errors(404, 503))
    def graph(who: Allowed, entity: Annotated[str, Query(min_length=1, max_length=50)]) -> dict[str, Any]:
        found = neighbourhood(desk.live.current().kb, entity)
        if found is None:
            raise HTTPException(404, f"知识图谱中没有“{entity}”")
        for node in found["nodes"]:
            node["type_label"] = label(node["type"])
        for edge in found["edges"]:
            edge["label"] = label(edge["type"])
        return found

    @app.get("/api/kb/report", tags=["knowledge"], responses=errors(503))
    def kb_report(who: Allowed) -> dict[str, Any]:
        """Coverage, duplicate groups (canonical item and copies) and conflicts with their state."""
        from gridkb.organisation.report import build_report

        return report_view(build_report(desk.live.current().kb, desk.conflicts()), desk.taxonomy)

    @app.post("/api/kb/conflicts/{conflict_id}/decision", tags=["knowledge"], responses=errors(404, 409, 503))
    def decide_conflict(conflict_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$")], body: schemas.ConflictDecisionIn, who: Allowed) -> dict[str, Any]:
        """An admin rules which statement of an undecided conflict holds; kept with who and when."""
        conflict = desk.decide_conflict(conflict_id, body.preferred, who.name, body.note)
        return {"id": conflict.id, "preferred": conflict.preferred, "decided_by": conflict.decided_by, "reason": conflict.reason}

    @app.post("/api/documents", response_model=schemas.JobOut, status_code=202, tags=["knowledge"])
    def upload(
        who: Allowed,
        files: Annotated[list[UploadFile], File(description="documents, each optionally with its `<file>.meta.yaml` sidecar")],
        audience: Annotated[Literal["public", "internal"] | None, Form(description="for documents that declare none; default internal")] = None,
        valid_from: Annotated[date | None, Form(description="YYYY-MM-DD, for documents that declare none")] = None,
        valid_to: Annotated[date | None, Form(description="YYYY-MM-DD, for documents that declare none")] = None,
    ) -> dict[str, Any]:
        """Upload documents and ingest them in the background; poll ``/api/documents/{job_id}``. A document
        is internal unless its sidecar, its front matter or ``audience`` says public (422 when they differ)."""
        form = UploadMeta(Audience(audience) if audience else None, valid_from, valid_to)
        received = []
        for upload in files:
            data = upload.file.read(settings.max_file_bytes + 1)
            if len(data) > settings.max_file_bytes:
                raise HTTPException(413, f"{upload.filename} 超过 {settings.max_file_mb:g} MB")
            received.append(UploadedFile(upload.filename or "", data))
        job_id = uuid.uuid4().hex
        folder = settings.uploads_path / job_id
        names = save_upload(received, form, folder)
        desk.store.add_job(job_id, names, who.name, desk.clock())
        threading.Thread(target=_ingest_job, args=(desk, settings, job_id, folder), daemon=True).start()
        return _job(desk.store.job(job_id))

    @app.get("/api/documents/{job_id}", response_model=schemas.JobOut, tags=["knowledge"], responses=errors(404))
    def job(job_id: Annotated[str, PathParam(max_length=64)], who: Allowed) -> dict[str, Any]:
        found = desk.store.job(job_id)
        if found is None:
            raise HTTPException(404, "没有这个导入任务")
        return _job(found)

    @app.post("/api/keys", response_model=schemas.KeyOut, status_code=201, tags=["service"])
    def create_key(body: schemas.KeyRequest, who: Allowed) -> dict[str, Any]:
        """A key for an agent or another admin; shown once, stored only as a hash."""
        key, key_id = desk.keys.create(body.name, Role(body.role), body.department)
        return {"id": key_id, "name": body.name, "role": body.role, "key": key, "department": body.department.strip()}

    @app.get("/api/keys", response_model=list[schemas.KeyInfo], tags=["service"])
    def list_keys(who: Allowed) -> list[dict[str, Any]]:
        """Agent and admin keys with their state; the keys themselves are never stored."""
        return desk.keys.listing()

    @app.delete("/api/keys/{key_id}", status_code=204, tags=["service"], responses=errors(404))
    def revoke_key(key_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{12}$")], who: Allowed) -> None:
        """Revoke a key at once, on every worker (a lost laptop, a colleague who left)."""
        if not desk.keys.revoke(key_id):
            raise HTTPException(404, "没有这个有效的密钥")

    @app.post("/api/erasures", response_model=schemas.ErasureOut, tags=["privacy"], responses=errors(404))
    def erase_customer(body: schemas.ErasureRequest, who: Allowed) -> dict[str, Any]:
        """Delete a customer's personal data on request, found by phone, session or ticket: their chat
        sessions, messages and feedback go; their tickets keep number, status, category and dates with
        the personal fields replaced; the query cache is emptied. Audited without the erased data."""
        return desk.erasure.erase(_erasure_identifier(body), who.name).to_dict()

    @app.get("/api/erasures", response_model=list[schemas.ErasureOut], tags=["privacy"])
    def erasure_log(who: Allowed, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
        """The audit log of erasures and retention runs, newest first."""
        return [e.to_dict() for e in desk.erasure.log(limit)]

    @app.get("/api/whoami", tags=["service"])
    def whoami(who: Allowed) -> dict[str, str]:
        return {"name": who.name, "role": who.role.value, "role_label": label(who.role)}


_INGEST_LOCK = threading.Lock()  # one ingest at a time in this process (others are refused by the writer lock)


class _JobProgress:
    def __init__(self, desk: ServiceDesk, job_id: str) -> None:
        self.desk, self.job_id = desk, job_id
        self.done: dict[str, int] = {}
        self.totals: dict[str, int] = {}

    def start(self, stage: str, total: int) -> None:
        self.done[stage], self.totals[stage] = 0, total
        self.desk.store.update_job(self.job_id, stage=stage, done=0, total=total)

    def advance(self, stage: str, amount: int = 1) -> None:
        self.done[stage] = self.done.get(stage, 0) + amount
        if self.done[stage] % 10 == 0 or self.done[stage] >= self.totals.get(stage, 0):
            self.desk.store.update_job(self.job_id, stage=stage, done=self.done[stage])


def _ingest_job(desk: ServiceDesk, settings: Settings, job_id: str, folder: Path) -> None:
    from gridkb.ingest import ingest

    store = desk.store
    try:
        with _INGEST_LOCK:
            store.update_job(job_id, status="running")
            # keyed <uploads folder>/<file name>: a corrected file of the same name replaces the earlier
            # upload; an upload adds, it never removes the documents of earlier uploads
            uploads = SourceRoot(folder, settings.uploads_path.name, complete=False)
            report = ingest([uploads], settings, _JobProgress(desk, job_id))
        failed = [f"{Path(f.path).name}: {f.reason}" for f in report.failed]
        store.update_job(
            job_id, status="failed" if failed and not report.added and not report.updated else "done",
            finished_at=datetime.now(timezone.utc), report=report.to_dict(), error="; ".join(failed),
        )
    except GridkbError as error:
        store.update_job(job_id, status="failed", finished_at=datetime.now(timezone.utc), error=str(error))
    except Exception as error:  # noqa: BLE001 - a background job must record why it died
        log.exception("ingest job %s failed", job_id)
        store.update_job(job_id, status="failed", finished_at=datetime.now(timezone.utc), error=f"内部错误：{type(error).__name__}")


def _job(row: dict[str, Any] | None) -> dict[str, Any]:
    assert row is not None
    return row | {"status_label": label(row["status"]), "stage_label": label(row["stage"]) if row["stage"] else ""}


def _ticket(desk: ServiceDesk, ticket: Ticket, who: Caller, detail: bool = True) -> dict[str, Any]:
    shown = desk.tickets.view(ticket, who.role, who.name)
    data = shown.to_dict()
    for name in ("origin", "queue", "priority", "status", "publication"):
        data[name] = getattr(shown, name).value
    data["breached"] = shown.breached(desk.clock())
    data["transcript"] = [dict(t) for t in shown.transcript] if detail else []
    data["events"] = [e.to_dict() for e in shown.events] if detail else []
    overdue = shown.due_at < desk.clock()
    data |= ticket_labels(shown if detail else replace(shown, events=()), desk.taxonomy, who.role, overdue=overdue)
    return data


async def _events(reply: dict[str, Any]) -> AsyncIterator[bytes]:
    text = reply["answer"]
    for start in range(0, len(text), STREAM_PIECE):
        yield _sse("delta", {"text": text[start : start + STREAM_PIECE]})
        await asyncio.sleep(0.01)
    yield _sse("done", reply)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _pages(app: FastAPI, settings: Settings) -> None:
    demo_page = (WEB / "demo.html").read_text(encoding="utf-8").replace("{{WIDGET_KEY}}", html.escape(settings.widget_key, quote=True))

    app.mount("/static", StaticFiles(directory=WEB), name="static")

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(WEB / "widget.js", media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"})

    @app.get("/demo", include_in_schema=False)
    def demo() -> HTMLResponse:
        return HTMLResponse(demo_page)

    @app.get("/console", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(WEB / "console.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    @app.get("/favicon.svg", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(WEB / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/", include_in_schema=False)
    def home() -> FileResponse:
        return FileResponse(WEB / "index.html", media_type="text/html")


def _erasure_identifier(body: schemas.ErasureRequest) -> CustomerIdentifier:
    if isinstance(body, schemas.ErasureByPhone):
        return CustomerIdentifier.parse("phone", body.phone)
    if isinstance(body, schemas.ErasureBySession):
        return CustomerIdentifier.parse("session", body.session_id)
    return CustomerIdentifier.parse("ticket", body.ticket)


RETENTION_INTERVAL = 6 * 3600.0  # seconds between retention runs of a worker


def _retention_loop(desk: ServiceDesk, days: int, stop: threading.Event) -> None:
    """Delete what is past the retention period now and every few hours, until the server stops."""
    while True:
        try:
            desk.erasure.apply_retention(days)
        except Exception:  # noqa: BLE001 - a failed run is logged and retried at the next interval
            log.exception("retention run failed")
        if stop.wait(RETENTION_INTERVAL):
            return


def _warm_up(desk: ServiceDesk) -> None:
    try:
        desk.live.warm_up()
    except GridkbError as error:  # no knowledge base yet: the first request reports it
        log.warning("warm-up skipped: %s", error)
