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
from datetime import datetime, timezone
from pathlib import Path
from dataclasses import replace
from typing import Annotated, Any, Literal

import anyio
from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridkb.api import schemas
from gridkb.api.auth import Authenticator, Caller, RateLimiter
from gridkb.api.views import report_view, ticket_labels
from gridkb.application.explore import neighbourhood
from gridkb.chat.bot import InvalidMessage
from gridkb.chat.notices import InvalidNotice
from gridkb.config import Settings
from gridkb.errors import GridkbError, KnowledgeBaseMissing, NotFound
from gridkb.labels import category_name, label
from gridkb.organisation.conflicts import ConflictAlreadyDecided, ConflictDecisionError
from gridkb.privacy import mask_personal_data
from gridkb.records import Audience, Priority, Role, Ticket, TicketOrigin, TicketStatus
from gridkb.storage.counters import open_counters
from gridkb.storage.service_db import ConcurrentUpdate
from gridkb.tickets.desk import ServiceDesk
from gridkb.tickets.service import InvalidTransition, TicketError

WEB = Path(__file__).resolve().parent.parent / "web"
UPLOAD_SUFFIXES = {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".csv", ".xlsx", ".json"}
STREAM_PIECE = 12  # characters per server-sent event
log = logging.getLogger("gridkb.api")


class MaskingFilter(logging.Filter):
    """Phone, ID-card and account numbers never reach the logs (access logs carry query strings)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(mask_personal_data(a) if isinstance(a, str) else a for a in record.args)  # type: ignore[assignment]
        if isinstance(record.msg, str):
            record.msg = mask_personal_data(record.msg)
        return True


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
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            await _too_large(send, limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"请求过大：最多 {limit // 1024} KB"}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    desk = ServiceDesk(settings)
    auth = Authenticator(settings, desk.store)
    limiter = RateLimiter(settings.widget_rate_per_minute, open_counters(settings.redis_url, desk.store))
    for name in ("uvicorn.access", "uvicorn.error", "gridkb"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # CPU-bound handlers in many threads only fight over the GIL: a few threads per worker
        # serve more requests per second, and the rest wait their turn in the event loop
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.handler_threads
        # models loaded and FAQ wordings analysed in the background, not on the first customer's question
        threading.Thread(target=_warm_up, args=(desk,), name="gridkb-warm-up", daemon=True).start()
        yield

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
    return app


def _errors(app: FastAPI) -> None:
    statuses: list[tuple[type[Exception], int]] = [
        (NotFound, 404), (KnowledgeBaseMissing, 503), (ConcurrentUpdate, 409), (InvalidTransition, 409), (InvalidNotice, 422),
        (InvalidMessage, 422), (TicketError, 422), (ConflictAlreadyDecided, 409), (ConflictDecisionError, 422), (GridkbError, 400),
    ]

    async def handler(request: Request, error: Exception) -> JSONResponse:
        status = next(code for kind, code in statuses if isinstance(error, kind))
        return JSONResponse({"detail": str(error)}, status_code=status)

    for kind, _ in statuses:
        app.add_exception_handler(kind, handler)


def _routes(app: FastAPI, settings: Settings, desk: ServiceDesk, auth: Authenticator, limiter: RateLimiter) -> None:
    def caller(request: Request) -> Caller | None:
        return auth.identify(request.headers.get("authorization"))

    def require(*roles: Role) -> Callable[..., Caller]:
        def dependency(request: Request, who: Annotated[Caller | None, Depends(caller)]) -> Caller:
            if who is None:
                raise HTTPException(401, "需要认证：请在 Authorization 头中提供 Bearer 密钥", headers={"WWW-Authenticate": "Bearer"})
            if who.role not in roles:
                raise HTTPException(403, "当前密钥无权访问此接口")
            if who.role is Role.CUSTOMER:
                client = request.client.host if request.client else "unknown"
                allowed, reset = limiter.allow(f"{who.name}:{client}")
                if not allowed:
                    raise HTTPException(429, "请求过于频繁，请稍后再试", headers={"Retry-After": str(reset)})
            return who

        return dependency

    anyone = require(Role.CUSTOMER, Role.AGENT, Role.ADMIN)
    staff = require(Role.AGENT, Role.ADMIN)
    admin = require(Role.ADMIN)
    Anyone = Annotated[Caller, Depends(anyone)]
    Staff = Annotated[Caller, Depends(staff)]
    Admin = Annotated[Caller, Depends(admin)]

    def audience(who: Caller) -> Audience:
        return Audience.INTERNAL if who.staff else Audience.PUBLIC

    @app.get("/healthz", response_model=schemas.Health, tags=["service"])
    def healthz() -> dict[str, Any]:
        stats = desk.live.current().kb.stats()
        return {"status": "ok", "documents": stats.documents, "chunks": stats.chunks}

    @app.post("/api/chat", response_model=schemas.ChatResponse, tags=["chat"])
    def chat(body: schemas.ChatRequest, who: Anyone) -> dict[str, Any]:
        """One customer message; a new conversation when ``session_id`` is null."""
        reply = desk.chat(body.session_id, body.message, channel="widget" if not who.staff else "agent", audience=audience(who))
        return reply.to_json()

    @app.post("/api/chat/stream", tags=["chat"], response_class=StreamingResponse,
              responses={200: {"content": {"text/event-stream": {}}, "description": "`delta` events with pieces of the answer, then `done` with the whole reply"}})
    async def chat_stream(body: schemas.ChatRequest, who: Anyone) -> StreamingResponse:
        """The same reply as ``/api/chat``, as Server-Sent Events."""
        reply = await run_in_threadpool(
            desk.chat, body.session_id, body.message, "widget" if not who.staff else "agent", audience(who)
        )
        return StreamingResponse(_events(reply.to_json()), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/api/feedback", response_model=schemas.FeedbackResponse, tags=["chat"])
    def feedback(body: schemas.FeedbackRequest, who: Anyone) -> dict[str, Any]:
        _, ticket = desk.feedback(body.session_id, body.message_id, body.helpful, body.rating, body.comment or "")
        return {"ok": True, "ticket_id": ticket.number if ticket else None}

    @app.get("/api/search", response_model=list[schemas.SearchHitOut], tags=["knowledge"])
    def search(
        who: Staff,
        q: Annotated[str, Query(min_length=1, max_length=500)],
        k: Annotated[int, Query(ge=1, le=50)] = 10,
        category: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[dict[str, Any]]:
        hits = desk.live.current().answerer.search(q, k=k, category=category or None, audience=audience(who))
        return [
            {
                "title": h.chunk.title_path[0], "section": h.chunk.section, "title_path": list(h.chunk.title_path), "snippet": h.snippet,
                "highlights": [list(s) for s in h.highlights], "score": h.score, "category": h.chunk.category, "source": h.chunk.source,
                "audience": h.chunk.audience.value, "also_in": list(h.also_in), "chunk_id": h.chunk.id,
                "category_name": category_name(h.chunk.category, desk.taxonomy), "audience_label": label(h.chunk.audience),
            }
            for h in hits
        ]

    @app.get("/api/recommend", response_model=schemas.Recommendations, tags=["knowledge"])
    def recommend(who: Anyone, q: Annotated[str, Query(min_length=1, max_length=500)]) -> dict[str, Any]:
        serving = desk.live.current()
        related = serving.recommender.related_questions(q, k=5, audience=audience(who))
        category = serving.kb.classify_question(serving.answerer.searcher.prepare(q)).category
        popular = desk.popular_questions(category if category != "unknown" else None, k=5)
        return {"related": [r.question for r in related], "popular": popular, "category": category}

    @app.get("/api/tickets", response_model=list[schemas.TicketOut], tags=["tickets"])
    def tickets(
        who: Staff,
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

    @app.post("/api/tickets", response_model=schemas.TicketOut, status_code=201, tags=["tickets"])
    def create_ticket(body: schemas.TicketCreate, who: Staff) -> dict[str, Any]:
        ticket = desk.tickets.open(
            TicketOrigin.AGENT, body.question, who.name, category=body.category, contact=body.contact,
            priority=Priority(body.priority) if body.priority else None,
        )
        return _ticket(desk, ticket, who)

    @app.get("/api/tickets/{number}", response_model=schemas.TicketOut, tags=["tickets"])
    def get_ticket(number: Annotated[str, PathParam(max_length=32)], who: Staff) -> dict[str, Any]:
        return _ticket(desk, desk.tickets.get(number), who)

    @app.patch("/api/tickets/{number}", response_model=schemas.TicketOut, tags=["tickets"])
    def patch_ticket(number: Annotated[str, PathParam(max_length=32)], body: schemas.TicketPatch, who: Staff) -> dict[str, Any]:
        """Lifecycle: ``transition`` (status), ``assign`` (assignee), ``route`` (department), ``resolve``
        (resolution, publish), ``contacted``, ``note``; admins: ``approve`` / ``reject`` a published answer."""
        service = desk.tickets
        if body.action == "transition":
            if body.status is None:
                raise HTTPException(422, "transition 需要 status")
            ticket = service.transition(number, TicketStatus(body.status), who.name, body.note)
        elif body.action == "assign":
            ticket = service.assign(number, body.assignee or "", who.name, body.note)
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

    @app.get("/api/gaps", tags=["analysis"])
    def gaps(who: Staff, since: datetime | None = None) -> list[dict[str, Any]]:
        return [
            {"question": g.question, "count": g.count, "examples": list(g.examples), "category": g.category,
             "department": g.department, "queue": g.queue.value, "last_seen": g.last_seen.isoformat(),
             "category_name": category_name(g.category, desk.taxonomy), "queue_label": label(g.queue)}
            for g in desk.gaps(_aware(since))
        ]

    @app.get("/api/metrics", tags=["analysis"])
    def metrics(who: Staff, since: datetime | None = None) -> dict[str, Any]:
        """Service metrics; ``labels`` and ``category_names`` give the Chinese of every code in them."""
        data = desk.metrics(_aware(since)).to_json()
        codes = {*data["tickets_by_status"], *data["tickets_by_origin"], *(g["queue"] for g in data["top_gaps"])}
        categories = {*data["tickets_by_category"], *(g["category"] for g in data["top_gaps"])}
        data["labels"] = {code: label(code) for code in codes}
        data["category_names"] = {code: category_name(code, desk.taxonomy) for code in categories}
        return data

    @app.get("/api/notices", response_model=list[schemas.NoticeOut], tags=["notices"])
    def notices(who: Staff, include_all: Annotated[bool, Query(alias="all")] = False) -> list[dict[str, Any]]:
        board = desk.notices
        now = desk.clock()
        return [n.to_dict() | {"active": n.active(now), "kind_label": label(n.kind)} for n in (board.all() if include_all else board.active())]

    @app.post("/api/notices", response_model=schemas.NoticeOut, status_code=201, tags=["notices"])
    def add_notice(body: schemas.NoticeIn, who: Staff) -> dict[str, Any]:
        notice = desk.notices.publish(
            body.kind, body.title, body.areas, _aware(body.starts_at), _aware(body.ends_at), body.cause, body.restoration, body.body, who.name
        )
        return notice.to_dict() | {"active": notice.active(desk.clock()), "kind_label": label(notice.kind)}

    @app.post("/api/notices/{notice_id}/expire", response_model=schemas.NoticeOut, tags=["notices"])
    def expire_notice(notice_id: Annotated[str, PathParam(max_length=64)], who: Staff) -> dict[str, Any]:
        notice = desk.notices.expire(notice_id)
        return notice.to_dict() | {"active": notice.active(desk.clock()), "kind_label": label(notice.kind)}

    @app.get("/api/graph", tags=["knowledge"])
    def graph(who: Staff, entity: Annotated[str, Query(min_length=1, max_length=50)]) -> dict[str, Any]:
        found = neighbourhood(desk.live.current().kb, entity)
        if found is None:
            raise HTTPException(404, f"知识图谱中没有“{entity}”")
        for node in found["nodes"]:
            node["type_label"] = label(node["type"])
        for edge in found["edges"]:
            edge["label"] = label(edge["type"])
        return found

    @app.get("/api/kb/report", tags=["knowledge"])
    def kb_report(who: Staff) -> dict[str, Any]:
        """Coverage, duplicate groups (canonical item and copies) and conflicts with their state."""
        from gridkb.organisation.report import build_report

        return report_view(build_report(desk.live.current().kb, desk.conflicts()), desk.taxonomy)

    @app.post("/api/kb/conflicts/{conflict_id}/decision", tags=["knowledge"])
    def decide_conflict(conflict_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$")], body: schemas.ConflictDecisionIn, who: Admin) -> dict[str, Any]:
        """An admin rules which statement of an undecided conflict holds; kept with who and when."""
        conflict = desk.decide_conflict(conflict_id, body.preferred, who.name, body.note)
        return {"id": conflict.id, "preferred": conflict.preferred, "decided_by": conflict.decided_by, "reason": conflict.reason}

    @app.post("/api/documents", response_model=schemas.JobOut, status_code=202, tags=["knowledge"])
    def upload(who: Admin, files: Annotated[list[UploadFile], File(description="documents to add to the knowledge base")]) -> dict[str, Any]:
        """Upload documents and ingest them in the background; poll ``/api/documents/{job_id}``."""
        job_id = uuid.uuid4().hex
        folder = settings.uploads_path / job_id
        names = []
        for upload in files:
            name = Path(upload.filename or "").name
            if not name or name.startswith(".") or Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
                raise HTTPException(422, f"不支持的文件：{name or '(无文件名)'}（支持 {', '.join(sorted(UPLOAD_SUFFIXES))}）")
            names.append(name)
        if not names or len(set(names)) != len(names):
            raise HTTPException(422, "请上传至少一个文件，且文件名不重复")
        folder.mkdir(parents=True, exist_ok=True)
        for upload, name in zip(files, names):
            data = upload.file.read(settings.max_file_bytes + 1)
            if len(data) > settings.max_file_bytes:
                raise HTTPException(413, f"{name} 超过 {settings.max_file_mb:g} MB")
            (folder / name).write_bytes(data)
        desk.store.add_job(job_id, names, who.name, desk.clock())
        threading.Thread(target=_ingest_job, args=(desk, settings, job_id, folder), daemon=True).start()
        return _job(desk.store.job(job_id))

    @app.get("/api/documents/{job_id}", response_model=schemas.JobOut, tags=["knowledge"])
    def job(job_id: Annotated[str, PathParam(max_length=64)], who: Admin) -> dict[str, Any]:
        found = desk.store.job(job_id)
        if found is None:
            raise HTTPException(404, "没有这个导入任务")
        return _job(found)

    @app.post("/api/keys", response_model=schemas.KeyOut, status_code=201, tags=["service"])
    def create_key(body: schemas.KeyRequest, who: Admin) -> dict[str, Any]:
        """A key for an agent or another admin; shown once, stored only as a hash."""
        key, key_id = auth.create_key(body.name, Role(body.role), desk.clock())
        return {"id": key_id, "name": body.name, "role": body.role, "key": key}

    @app.get("/api/keys", response_model=list[schemas.KeyInfo], tags=["service"])
    def list_keys(who: Admin) -> list[dict[str, Any]]:
        """Agent and admin keys with their state; the keys themselves are never stored."""
        return desk.store.api_keys()

    @app.delete("/api/keys/{key_id}", status_code=204, tags=["service"])
    def revoke_key(key_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{12}$")], who: Admin) -> None:
        """Revoke a key at once, on every worker (a lost laptop, a colleague who left)."""
        if not desk.store.revoke_api_key(key_id, desk.clock()):
            raise HTTPException(404, "没有这个有效的密钥")

    @app.get("/api/whoami", tags=["service"])
    def whoami(who: Anyone) -> dict[str, str]:
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
            report = ingest([folder], settings, _JobProgress(desk, job_id))
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


def _aware(moment: datetime | None) -> Any:
    from datetime import timedelta

    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone(timedelta(hours=8)))  # a time without offset is Beijing time


def _ticket(desk: ServiceDesk, ticket: Ticket, who: Caller, detail: bool = True) -> dict[str, Any]:
    shown = desk.tickets.view(ticket, who.role, who.name)
    data = shown.to_dict()
    for name in ("origin", "queue", "priority", "status", "publication"):
        data[name] = getattr(shown, name).value
    data["breached"] = shown.breached(desk.clock())
    data["transcript"] = [dict(t) for t in shown.transcript] if detail else []
    data["events"] = [e.to_dict() for e in shown.events] if detail else []
    overdue = shown.due_at < desk.clock()
    data |= ticket_labels(shown if detail else replace(shown, events=()), desk.taxonomy, who.role, masked=shown is not ticket, overdue=overdue)
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


def _warm_up(desk: ServiceDesk) -> None:
    try:
        desk.live.warm_up()
    except GridkbError as error:  # no knowledge base yet: the first request reports it
        log.warning("warm-up skipped: %s", error)
