"""Who is calling, what they may do, and how often.

- The widget key (``GRIDKB_WIDGET_KEY``) is public by nature, it sits in every page that embeds the
  widget: it may only chat, give feedback and get recommendations, over public knowledge, and is
  rate-limited per client.
- The admin key (``GRIDKB_ADMIN_KEY``, or one generated into ``<kb_dir>-admin.key``) bootstraps
  the service: admins create agent and admin keys, which are stored only as hashes.
- Every other endpoint refuses anonymous calls.

Widget clients are rate-limited by the library's counters (``gridkb.ratelimit``, built by the root).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from gridkb.config import Settings
from gridkb.records import Role
from gridkb.service import Actor, GridService


@dataclass(frozen=True)
class Caller(Actor):
    """Who is calling: name, role and an agent's department (the tickets they may take)."""

    @property
    def staff(self) -> bool:
        return self.role in (Role.AGENT, Role.ADMIN)


@dataclass(frozen=True)
class Rule:
    """Who may call one operation: callers with one of ``roles``, or anyone when ``anonymous``."""

    roles: frozenset[Role]
    anonymous: bool = False

    def refusal(self, who: Caller | None) -> int | None:
        """None when ``who`` may call; else the status that refuses them (401 no key, 403 wrong role)."""
        if self.anonymous:
            return None
        if who is None:
            return 401
        return None if who.role in self.roles else 403


OPEN = Rule(frozenset(), anonymous=True)  # health checks
WIDGET = Rule(frozenset({Role.CUSTOMER, Role.AGENT, Role.ADMIN}))  # the public widget key and staff
STAFF = Rule(frozenset({Role.AGENT, Role.ADMIN}))
ADMIN = Rule(frozenset({Role.ADMIN}))

# The one table of route permissions: every operation of the API has its rule here, and the routes
# ask this table (``rule_for``); an operation without a rule refuses everyone (and fails the tests).
PERMISSIONS: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): OPEN,
    ("POST", "/api/chat"): WIDGET,
    ("POST", "/api/chat/stream"): WIDGET,
    ("POST", "/api/feedback"): WIDGET,
    ("GET", "/api/recommend"): WIDGET,
    ("GET", "/api/whoami"): WIDGET,
    ("GET", "/api/search"): STAFF,
    ("GET", "/api/tickets"): STAFF,
    ("POST", "/api/tickets"): STAFF,
    ("GET", "/api/ticket-statuses"): STAFF,
    ("GET", "/api/tickets/{number}"): STAFF,
    ("PATCH", "/api/tickets/{number}"): STAFF,  # approve/reject of a published answer: admins (checked by the action)
    ("GET", "/api/gaps"): STAFF,
    ("GET", "/api/metrics"): STAFF,
    ("GET", "/api/notices"): STAFF,
    ("POST", "/api/notices"): STAFF,
    ("POST", "/api/notices/{notice_id}/expire"): STAFF,
    ("GET", "/api/graph"): STAFF,
    ("GET", "/api/kb/report"): STAFF,
    ("POST", "/api/kb/conflicts/{conflict_id}/decision"): ADMIN,
    ("POST", "/api/documents"): ADMIN,
    ("GET", "/api/documents/{job_id}"): ADMIN,
    ("POST", "/api/keys"): ADMIN,
    ("GET", "/api/keys"): ADMIN,
    ("DELETE", "/api/keys/{key_id}"): ADMIN,
    ("POST", "/api/erasures"): ADMIN,  # a customer's personal data deleted on request
    ("GET", "/api/erasures"): ADMIN,
    # the pages (not in the OpenAPI document): the widget script, the demo, the console shell
    ("GET", "/"): OPEN,
    ("GET", "/demo"): OPEN,
    ("GET", "/console"): OPEN,
    ("GET", "/widget.js"): OPEN,
    ("GET", "/favicon.ico"): OPEN,
    ("GET", "/favicon.svg"): OPEN,
}
NOBODY = Rule(frozenset())


def rule_for(method: str, path: str) -> Rule:
    """The rule of the operation ``method path`` (the route's path template); none refuses everyone."""
    method = "GET" if method.upper() == "HEAD" else method.upper()
    return PERMISSIONS.get((method, path), NOBODY)


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
    def __init__(self, service: GridService) -> None:
        self.keys = service.keys
        self.widget_key = service.settings.widget_key
        self.admin_key = bootstrap_admin_key(service.settings)

    def identify(self, authorization: str | None) -> Caller | None:
        """The caller of a request from its ``Authorization: Bearer KEY`` header; None when anonymous or unknown."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        key = authorization[7:].strip()
        if not key or len(key) > 200:
            return None
        if _same_key(key, self.admin_key):
            return Caller("admin", Role.ADMIN)
        if _same_key(key, self.widget_key):
            return Caller("widget", Role.CUSTOMER)
        found = self.keys.holder(key)
        if found is None:
            return None
        name, role, department = found
        return Caller(name, Role(role), department)


def _same_key(given: str, expected: str) -> bool:
    """Constant-time comparison of any header text (compare_digest refuses non-ASCII str: `Bearer 密钥`)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))
