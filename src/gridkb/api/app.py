"""The HTTP API, the chat widget, the agent console and the demo page, over the composition root.

A thin shell: every endpoint (``api/routers``) is let in by the permission gate (``deps``), validates
its request, makes one call to ``GridService`` and shapes the answer; library errors become status
codes (``errors``). Nothing of a conversation lives in the process: sessions, tickets, jobs and
rate-limit counters are in the database (or Redis), so any number of workers serve the same
customers. Start it with ``gridkb serve`` or ``uvicorn --factory gridkb.api.app:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from gridkb.api.auth import Authenticator
from gridkb.api.deps import permitted
from gridkb.api.errors import document_errors, install_error_handlers
from gridkb.api.logs import install_log_masking
from gridkb.api.middleware import BodyLimit, served_by
from gridkb.api.routers import analysis, chat, documents, keys, knowledge, notices, privacy, service, tickets, web
from gridkb.config import Settings
from gridkb.service import GridService

DESCRIPTION = (
    "Knowledge service and customer-service bot of the 95598 service centre. Authenticate with "
    "`Authorization: Bearer KEY`: the widget key (chat, feedback, recommendations) or an agent/admin key."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app over the knowledge base and service database of ``settings`` (default: the environment's)."""
    settings = settings or Settings()
    root = GridService(settings)
    root.open()  # the service database now: an unsafe one stops the start, not the first customer
    install_log_masking()  # access log (query strings), tracebacks of a 500, every gridkb logger

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # CPU-bound handlers in many threads only fight over the GIL: a few threads per worker
        # serve more requests per second, and the rest wait their turn in the event loop
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.handler_threads
        stop = root.start_background_tasks()  # models warmed up; retention runs, when a period is set
        yield
        stop()

    app = FastAPIOffline(lifespan=lifespan, title="gridkb", version="0.1.0", description=DESCRIPTION)
    app.state.service = root
    app.state.auth = Authenticator(root)
    app.add_middleware(BodyLimit, limit=settings.max_request_kb * 1024, upload_limit=settings.max_file_bytes * 5)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type"], max_age=600,
        )
    app.middleware("http")(served_by)
    categories = [c.code for c in (*root.taxonomy.categories, *root.taxonomy.children)]
    routers = (
        service.router, chat.router, knowledge.router, tickets.build_router(categories), analysis.router,
        notices.router, documents.router, keys.router, privacy.router, web.router,
    )
    # the routes as their routers hold them (FastAPI may keep an included router's routes nested)
    routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    install_error_handlers(app, routes)
    app.router.dependencies.append(Depends(permitted))  # before the routes: every one of them passes the gate
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=web.WEB), name="static")
    document_errors(app, routes)
    return app
