"""Agent and admin keys of the HTTP API, as a library service: ``/api/keys`` and ``gridkb keys`` both
create, list and revoke them here. A key is shown once and stored only as a hash; its id (a prefix of
the hash) names it in lists and revocations."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from gridkb.errors import InvalidKeyError
from gridkb.records import ApiKeyInfo, Role

if TYPE_CHECKING:  # the SQL store is imported where it is built (it loads SQLAlchemy)
    from gridkb.storage.service_db import ServiceStore


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeys:
    def __init__(self, store: ServiceStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def create(self, name: str, role: Role, department: str = "") -> tuple[str, str]:
        """(key, key id) of a new agent or admin key. An agent's ``department`` is where they may take
        tickets (see ``TicketService.assign``). Raises InvalidKeyError for any other role."""
        from gridkb.storage.service_db import KEY_ID_LENGTH

        if role not in (Role.AGENT, Role.ADMIN):
            raise InvalidKeyError("keys are for agents and admins; the widget has its own")
        key = ("agt_" if role is Role.AGENT else "adm_") + secrets.token_urlsafe(24)
        digest = hash_key(key)
        self.store.add_api_key(digest, name, role.value, self.clock(), department.strip())
        return key, digest[:KEY_ID_LENGTH]

    def listing(self) -> list[ApiKeyInfo]:
        """Every key ever created (never the key itself), oldest first: id, name, role, department, dates."""
        return self.store.api_keys()

    def revoke(self, key_id: str) -> bool:
        """Revoke the live key with id ``key_id``; False when there is none."""
        return self.store.revoke_api_key(key_id, self.clock())

    def holder(self, key: str) -> tuple[str, str, str] | None:
        """(name, role, department) of the live key ``key``; None for an unknown or revoked key."""
        return self.store.api_key(hash_key(key))
