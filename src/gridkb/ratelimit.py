"""How often a client may call: fixed one-minute windows counted where every worker sees them (Redis
when ``GRIDKB_REDIS_URL`` is set, else the service database), never in process memory, so every
worker and host behind a load balancer counts the same client together."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gridkb.storage.counters import Counters

WINDOW = timedelta(minutes=1)


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
