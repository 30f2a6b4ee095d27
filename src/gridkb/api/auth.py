"""Who is calling, what they may do, and how often.

- The widget key (``GRIDKB_WIDGET_KEY``) is public by nature, it sits in every page that embeds the
  widget: it may only chat, give feedback and get recommendations, over public knowledge, and is
  rate-limited per client.
- The admin key (``GRIDKB_ADMIN_KEY``, or one generated into ``<kb_dir>-admin.key``) bootstraps
  the service: admins create agent and admin keys, which are stored only as hashes.
- Every other endpoint refuses anonymous calls.

Counters live in Redis when ``GRIDKB_REDIS_URL`` is set, else in the service database: never in
process memory, so every worker and host behind a load balancer counts the same client together.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from gridkb.config import Settings
from gridkb.records import Role
from gridkb.storage.counters import Counters
from gridkb.storage.service_db import KEY_ID_LENGTH, ServiceStore

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role

    @property
    def staff(self) -> bool:
        return self.role in (Role.AGENT, Role.ADMIN)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def bootstrap_admin_key(settings: Settings) -> str:
    """The admin key from the settings, or the one generated on first start (kept beside the
    knowledge base, readable by its owner only)."""
    if settings.admin_key:
        return settings.admin_key
    path = settings.admin_key_file
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = "adm_" + secrets.token_urlsafe(24)
        try:
            with open(path, "x", encoding="utf-8") as handle:  # another worker may be writing it now
                handle.write(key)
            path.chmod(0o600)
        except FileExistsError:
            return path.read_text(encoding="utf-8").strip()
        return key


class Authenticator:
    def __init__(self, settings: Settings, store: ServiceStore) -> None:
        self.store = store
        self.widget_key = settings.widget_key
        self.admin_key = bootstrap_admin_key(settings)

    def identify(self, authorization: str | None) -> Caller | None:
        """The caller of a request from its ``Authorization: Bearer KEY`` header; None when anonymous or unknown."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        key = authorization[7:].strip()
        if not key or len(key) > 200:
            return None
        if hmac.compare_digest(key, self.admin_key):
            return Caller("admin", Role.ADMIN)
        if hmac.compare_digest(key, self.widget_key):
            return Caller("widget", Role.CUSTOMER)
        found = self.store.api_key(hash_key(key))
        if found is None:
            return None
        name, role = found
        return Caller(name, Role(role))

    def create_key(self, name: str, role: Role, now: datetime) -> tuple[str, str]:
        return create_api_key(self.store, name, role, now)


def create_api_key(store: ServiceStore, name: str, role: Role, now: datetime) -> tuple[str, str]:
    """(key, key id) of a new agent or admin key: the key is shown once and stored only as a hash;
    the id (a prefix of the hash) names it in lists and revocations."""
    if role not in (Role.AGENT, Role.ADMIN):
        raise ValueError("keys are for agents and admins; the widget has its own")
    key = ("agt_" if role is Role.AGENT else "adm_") + secrets.token_urlsafe(24)
    digest = hash_key(key)
    store.add_api_key(digest, name, role.value, now)
    return key, digest[:KEY_ID_LENGTH]


class RateLimiter:
    """Fixed one-minute windows per client, counted where every worker sees them."""

    def __init__(self, limit: int, counters: Counters) -> None:
        self.limit = limit
        self.counters = counters

    def allow(self, client: str, now: datetime | None = None) -> tuple[bool, int]:
        """(allowed, seconds until the window resets) for one more request of ``client``."""
        now = now or datetime.now(timezone.utc)
        seconds = WINDOW.total_seconds()
        window = int(now.timestamp() // seconds)
        count = self.counters.hit(f"rate:{client}:{window}", now, WINDOW * 2)
        return count <= self.limit, int((window + 1) * seconds - now.timestamp()) + 1
