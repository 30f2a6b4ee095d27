"""A real HTTP server over a small knowledge base for the API and browser tests.

The knowledge base is the mini corpus plus one notice whose text carries HTML and script payloads
(it must be shown, never executed). Embeddings are reused from the session knowledge base.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import FIXTURES, ROOT

ADMIN_KEY = "test-admin-key"
WIDGET_KEY = "test-widget-key"
XSS_DOC = """---
title: 示例小区配电房改造通知
audience: public
---
# 示例小区配电房改造通知

示例小区配电房改造工程将于 12 月 1 日开工，改造期间分批短时停电，每次不超过 4 小时。<img src=x onerror="window.__xss='img'"><script>window.__xss='script'</script>
改造完成后小区供电容量提升至 2000 千伏安。
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def web_settings(built_kb, tmp_path_factory):
    from gridkb.config import Settings
    from gridkb.ingest import ingest

    session_settings, _, _ = built_kb
    base = tmp_path_factory.mktemp("web_kb")
    corpus = base / "corpus"
    shutil.copytree(FIXTURES / "mini_corpus", corpus)
    (corpus / "public" / "配电房改造通知.md").write_text(XSS_DOC, encoding="utf-8")
    (base / "kb").mkdir()
    shutil.copy(session_settings.kb_dir / "embeddings.sqlite", base / "kb" / "embeddings.sqlite")
    settings = Settings(
        kb_dir=base / "kb", config_dir=ROOT / "kb", classifier_training=FIXTURES / "eval" / "mini_qa.jsonl",
        database_url=f"sqlite:///{base / 'service.sqlite'}", published_dir=base / "published",
        admin_key=ADMIN_KEY, widget_key=WIDGET_KEY, widget_rate_per_minute=10_000,
        cors_origins=["https://www.example-utility.cn"],
    )
    ingest([corpus], settings)
    return settings


class LiveServer:
    def __init__(self, url: str, settings) -> None:  # type: ignore[no-untyped-def]
        self.url = url
        self.settings = settings

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@contextmanager
def serving(settings) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """uvicorn serving the real app over ``settings`` on a free port, stopped on exit."""
    import uvicorn

    from gridkb.api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        raise RuntimeError("the test server did not start")
    try:
        yield LiveServer(url, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(web_settings):
    """The real app on a free port for the whole session."""
    with serving(web_settings) as server:
        yield server


AGENT_DEPARTMENT = "生产指挥中心"  # agent-7's: outage tickets, which the tests take


@pytest.fixture(scope="session")
def agent_key(live_server) -> str:
    with live_server.client(ADMIN_KEY) as admin:
        response = admin.post("/api/keys", json={"name": "agent-7", "role": "agent", "department": AGENT_DEPARTMENT})
        assert response.status_code == 201
        return str(response.json()["key"])
