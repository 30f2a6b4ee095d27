"""Request counters shared by every worker: Redis when configured, else the service database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from gridkb.storage.service_db import ServiceStore


class Counters(Protocol):
    def hit(self, bucket: str, now: datetime, ttl: timedelta) -> int:
        """Count one event in ``bucket`` (atomically, across processes); returns the count so far.
        A bucket is forgotten ``ttl`` after ``now``."""
        ...


class DatabaseCounters:
    def __init__(self, store: ServiceStore) -> None:
        self.store = store

    def hit(self, bucket: str, now: datetime, ttl: timedelta) -> int:
        return self.store.hit_rate_counter(bucket[:128], now, now + ttl)


class RedisCounters:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2)

    def hit(self, bucket: str, now: datetime, ttl: timedelta) -> int:
        pipe = self._redis.pipeline()
        pipe.incr(bucket)
        pipe.expire(bucket, int(ttl.total_seconds()))
        return int(pipe.execute()[0])


def open_counters(redis_url: str | None, store: ServiceStore) -> Counters:
    return RedisCounters(redis_url) if redis_url else DatabaseCounters(store)
