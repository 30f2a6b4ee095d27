"""The pages: the widget script, the demo page (with this app's widget key), the agent console and the
home page; the static assets are mounted by ``create_app``. None is in the OpenAPI document."""

import html
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from gridkb.api.deps import AppSettings

WEB = Path(__file__).resolve().parent.parent.parent / "web"
router = APIRouter(include_in_schema=False)


@router.get("/widget.js")
def widget() -> FileResponse:
    return FileResponse(WEB / "widget.js", media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"})


@router.get("/demo")
def demo(settings: AppSettings) -> HTMLResponse:
    page = (WEB / "demo.html").read_text(encoding="utf-8")
    return HTMLResponse(page.replace("{{WIDGET_KEY}}", html.escape(settings.widget_key, quote=True)))


@router.get("/console")
def console() -> FileResponse:
    return FileResponse(WEB / "console.html", media_type="text/html")


@router.get("/favicon.ico")
@router.get("/favicon.svg")
def favicon() -> FileResponse:
    return FileResponse(WEB / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/")
def home() -> FileResponse:
    return FileResponse(WEB / "index.html", media_type="text/html")
