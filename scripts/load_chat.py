"""Load test of ``/api/chat``: concurrent simulated customers on loopback for a bounded time.

Each simulated customer holds a conversation: it asks questions drawn from the evaluation sets
(domain questions, follow-ups, small talk, unanswerable ones), waits for each reply, and starts a
new conversation every few turns. Prints throughput, p50/p95/p99 latency and the error count.

    .venv/bin/gridkb serve --kb kb/build --workers 2 &           # or any running server
    .venv/bin/python scripts/load_chat.py --url http://127.0.0.1:8000 --customers 32 --seconds 30

Questions repeat, as they do on the hotline, so after the first minutes most query vectors come from
the workers' shared cache. ``--unique`` makes every question new (a serial number is appended), so
each request pays the full query embedding: the figure for a cold cache.

Several workers writing one SQLite file wait on its write lock (tail latency); a multi-worker
deployment sets ``GRIDKB_DATABASE_URL`` to PostgreSQL.

The widget key is rate-limited per client; run the server with a high GRIDKB_WIDGET_RATE_PER_MINUTE
(or pass an agent key with --key) so the test measures the service, not the limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections import Counter
from pathlib import Path

import httpx

from gridkb.evaluation.datasets import load_dialogues, load_domain, load_unanswerable

DATASETS = Path("eval/datasets")


def conversations() -> list[list[str]]:
    domain = [[q.question] for q in load_domain(DATASETS / "domain_qa.jsonl")]
    dialogues = [[t.user for t in d.turns] for d in load_dialogues(DATASETS / "multiturn.jsonl")]
    unanswerable = [[u.question] for u in load_unanswerable(DATASETS / "unanswerable.jsonl") if u.question.strip()]
    small_talk = [["你好", "谢谢"]]
    return domain * 3 + dialogues * 2 + unanswerable + small_talk * 20


async def customer(client: httpx.AsyncClient, key: str, stop_at: float, rng: random.Random, plan: list[list[str]],
                   latencies: list[float], statuses: Counter[int], unique: bool = False) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    while time.monotonic() < stop_at:
        session = None
        for message in rng.choice(plan):
            if time.monotonic() >= stop_at:
                return
            if unique:
                message = f"{message} {rng.randrange(10**9)}号"
            started = time.perf_counter()
            try:
                response = await client.post("/api/chat", json={"session_id": session, "message": message}, headers=headers)
                statuses[response.status_code] += 1
                if response.status_code == 200:
                    session = response.json()["session_id"]
            except httpx.HTTPError as error:
                statuses[type(error).__name__] += 1  # type: ignore[index]
                continue
            latencies.append((time.perf_counter() - started) * 1000)


async def run(url: str, key: str, customers: int, seconds: float, seed: int, unique: bool = False) -> None:
    plan = conversations()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=customers, max_keepalive_connections=customers)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        warm = await client.get("/healthz")
        warm.raise_for_status()
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(*(customer(client, key, stop_at, random.Random(seed + i), plan, latencies, statuses, unique) for i in range(customers)))
        elapsed = time.monotonic() - started
    if not latencies:
        print("no request completed", dict(statuses))
        return
    latencies.sort()
    quantile = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    errors = sum(v for k, v in statuses.items() if not isinstance(k, int) or k >= 500)
    print(f"{customers} customers for {elapsed:.0f} s against {url}")
    print(f"requests: {len(latencies)}  throughput: {len(latencies) / elapsed:.1f} req/s")
    print(f"latency ms: p50 {quantile(0.5):.0f}  p95 {quantile(0.95):.0f}  p99 {quantile(0.99):.0f}  mean {statistics.fmean(latencies):.0f}")
    print(f"status codes: {dict(statuses)}  5xx and transport errors: {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", default="public-demo-widget", help="widget or agent key")
    parser.add_argument("--customers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--unique", action="store_true", help="every question new: no query vector from the cache")
    args = parser.parse_args()
    asyncio.run(run(args.url, args.key, args.customers, args.seconds, args.seed, args.unique))


if __name__ == "__main__":
    main()
