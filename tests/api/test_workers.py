"""Two uvicorn worker processes serve one conversation: every turn lands in the shared database
and follow-ups keep their context whichever worker answers."""

import os
import subprocess
import sys
import time

import httpx

from gridkb.storage.service_db import ServiceStore
from tests.api.conftest import ADMIN_KEY, WIDGET_KEY, free_port


def test_two_workers_share_the_conversation(web_settings, tmp_path):
    port = free_port()
    database = f"sqlite:///{tmp_path / 'service.sqlite'}"
    env = {
        **os.environ,
        "GRIDKB_CONFIG_DIR": str(web_settings.config_dir),
        "GRIDKB_ADMIN_KEY": ADMIN_KEY,
        "GRIDKB_WIDGET_KEY": WIDGET_KEY,
        "GRIDKB_PUBLISHED_DIR": str(tmp_path / "published"),
    }
    command = [sys.executable, "-m", "gridkb.cli", "serve", "--kb", str(web_settings.kb_dir), "--db", database, "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        workers: set[str] = set()
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline:  # both workers up and answering
            try:
                response = httpx.get(url + "/healthz", timeout=5)
                if response.status_code == 200:
                    workers.add(response.headers["x-served-by"])
            except httpx.TransportError:
                time.sleep(0.3)
        assert len(workers) == 2, "two worker processes answer"
        session = None
        served_by = []
        turns = ["城区抢修多久能到？", "那农村呢？", "电费可以在哪里交？", "谢谢"] * 2
        for message in turns:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {WIDGET_KEY}"}, timeout=60) as client:  # a new connection each turn
                response = client.post("/api/chat", json={"session_id": session, "message": message})
                assert response.status_code == 200, response.text
                session = response.json()["session_id"]
                served_by.append(response.headers["x-served-by"])
                if message == "那农村呢？":
                    assert "90 分钟" in response.json()["answer"]
        store = ServiceStore(database)
        assert [m.text for m in store.messages(session) if m.role == "user"] == turns
        store.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
