"""Run the HTTP service with uvicorn (``gridkb serve``)."""

from __future__ import annotations

import copy
import os
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from gridkb.api.auth import bootstrap_admin_key
from gridkb.config import Settings


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve the API, widget, console and demo page; several workers share nothing but the database."""
    admin_key = bootstrap_admin_key(settings)
    source = "GRIDKB_ADMIN_KEY" if settings.admin_key else str(settings.admin_key_file)
    print(f"gridkb: http://{host}:{port}/  (demo /demo, console /console, API docs /docs)", flush=True)
    print(f"gridkb: admin key for the console: {admin_key}  (from {source})", flush=True)
    print(f"gridkb: widget key: {settings.widget_key}", flush=True)
    # the workers build their settings from the environment: hand the CLI's choices down
    os.environ["GRIDKB_KB_DIR"] = str(settings.kb_dir)
    os.environ["GRIDKB_CONFIG_DIR"] = str(settings.config_dir)
    if settings.database_url:
        os.environ["GRIDKB_DATABASE_URL"] = settings.database_url
    if workers > 1:
        os.environ.setdefault("GRIDKB_EMBEDDING_THREADS", "1")  # one core each
    uvicorn.run(
        "gridkb.api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info", proxy_headers=False,
        log_config=log_config(),
    )


def log_config() -> dict[str, Any]:
    """uvicorn's logging plus gridkb's own lines (audit: who took which ticket) on the same console;
    every record is masked as it is made (``gridkb.api.logs``)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["gridkb"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
