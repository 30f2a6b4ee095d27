"""Soak test (battery item 8): a real ``gridkb serve`` driven at a steady rate for a long time.

    .venv/bin/python scripts/soak.py [--minutes 30] [--rate 20] [--workers 1|2] [--db postgresql+psycopg://…]

Starts the server on the built knowledge base (``--kb``, default kb/build) with a fresh SQLite service
database in a temporary folder (or ``--db``), then sends requests open-loop at ``--rate`` per second,
whatever the server's pace: a hotline-like mix of chat questions (new ones and popular ones asked
again, in conversations of a few turns), knowledge searches, recommendations and ticket reads. Every
5 s it samples the server's processes with psutil (resident memory, open files, threads).

After a warm-up (default: a fifth of the run, at most 5 minutes) it prints and checks:
  resident memory growth from the end of the warm-up to the end      ≤ 10 %
  open files after the warm-up: regular files not rising, all descriptors (sockets of requests in
  flight included) within 20 % + 5 — first vs last fifth, medians                  stable
  p95 latency drift, first vs last window (a fifth of the rest each)  ≤ 20 %
  errors (non-2xx answers and transport failures)                    0
Exit status 1 when a check fails. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from gridkb.evaluation.datasets import load_domain  # noqa: E402

WIDGET_KEY = "soak-widget-key"
SAMPLE_SECONDS = 5.0
MIX = (("chat_new", 0.2), ("chat_repeat", 0.3), ("search", 0.2), ("recommend", 0.15), ("ticket", 0.15))


@dataclass
class Result:
    at: float  # seconds since the start of the run
    kind: str
    seconds: float
    error: str = ""


@dataclass
class Sample:
    at: float
    rss: int
    fds: int  # every descriptor, sockets of requests in flight included
    files: int  # regular files only
    threads: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, folder: Path, admin_key: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDKB_")}
    env |= {"GRIDKB_ADMIN_KEY": admin_key, "GRIDKB_WIDGET_KEY": WIDGET_KEY, "GRIDKB_WIDGET_RATE_PER_MINUTE": "1000000"}
    db = args.db or f"sqlite:///{folder / 'service.sqlite'}"
    command = [str(ROOT / ".venv" / "bin" / "gridkb"), "serve", "--kb", str(args.kb), "--db", db, "--port", str(port), "--workers", str(args.workers)]
    log = open(folder / "server.log", "wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"the server exited: see {folder / 'server.log'}")
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start within 2 minutes")


class Traffic:
    """The request mix; every call is one request and returns its kind and an error ('' when fine)."""

    def __init__(self, url: str, admin_key: str, questions: list[str], rng: random.Random) -> None:
        self.widget = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {WIDGET_KEY}"}, timeout=60)
        admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=60)
        agent_key = admin.post("/api/keys", json={"name": "soak-agent", "role": "agent"}).json()["key"]
        self.agent = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {agent_key}"}, timeout=60)
        self.questions, self.rng = questions, rng
        self.popular = questions[: max(10, len(questions) // 5)]  # the hotline's usual questions
        self.tickets = [self._ticket(q) for q in questions[:20]]
        self.sessions: list[str] = []
        self.serial = 0
        self.lock = threading.Lock()

    def _ticket(self, question: str) -> str:
        response = self.agent.post("/api/tickets", json={"question": question})
        response.raise_for_status()
        return str(response.json()["number"])

    def send(self, kind: str) -> str:
        if kind.startswith("chat"):
            return self._chat(kind == "chat_new")
        if kind == "search":
            response = self.agent.get("/api/search", params={"q": self.rng.choice(self.questions), "k": 5})
        elif kind == "recommend":
            response = self.widget.get("/api/recommend", params={"q": self.rng.choice(self.popular)})
        elif self.rng.random() < 0.7:
            response = self.agent.get(f"/api/tickets/{self.rng.choice(self.tickets)}")
        else:
            response = self.agent.get("/api/tickets", params={"limit": 20})
        return "" if response.is_success else f"{kind} {response.status_code}"

    def _chat(self, new: bool) -> str:
        with self.lock:
            self.serial += 1
            serial = self.serial
            # a conversation lasts a few turns: continue one of the recent ones, or start a new one
            session = self.rng.choice(self.sessions) if self.sessions and self.rng.random() < 0.6 else None
        question = self.rng.choice(self.questions)
        message = f"{question}（客户 {serial} 号咨询）" if new else self.rng.choice(self.popular)
        response = self.widget.post("/api/chat", json={"session_id": session, "message": message})
        if not response.is_success:
            return f"chat {response.status_code}"
        with self.lock:
            self.sessions = (self.sessions + [response.json()["session_id"]])[-50:]
        return ""


def sample(server: subprocess.Popen[bytes], started: float) -> Sample:
    root = psutil.Process(server.pid)
    processes = [root, *root.children(recursive=True)]
    rss = fds = files = threads = 0
    for process in processes:
        try:
            rss += process.memory_info().rss
            fds += process.num_fds()
            files += len(process.open_files())
            threads += process.num_threads()
        except psutil.NoSuchProcess:  # a worker being replaced
            pass
    return Sample(time.monotonic() - started, rss, fds, files, threads)


def drive(traffic: Traffic, server: subprocess.Popen[bytes], seconds: float, rate: float, rng: random.Random) -> tuple[list[Result], list[Sample]]:
    """Open-loop: a request every 1/rate s on a pool of threads, so a slow server meets a growing queue."""
    results: list[Result] = []
    samples: list[Sample] = []
    kinds, weights = zip(*MIX)
    started = time.monotonic()

    def one(kind: str) -> None:
        t0 = time.monotonic()
        try:
            error = traffic.send(kind)
        except httpx.HTTPError as exc:
            error = f"{kind} {type(exc).__name__}"
        results.append(Result(t0 - started, kind, time.monotonic() - t0, error))

    with ThreadPoolExecutor(max_workers=64) as pool:
        n, next_sample = 0, 0.0
        while (now := time.monotonic() - started) < seconds:
            if now >= next_sample:
                samples.append(sample(server, started))
                next_sample += SAMPLE_SECONDS
                print(f"  {now:6.0f}s  {len(results):6d} requests  rss {samples[-1].rss / 1e6:7.1f} MB  fds {samples[-1].fds}  files {samples[-1].files}", flush=True)
            pool.submit(one, rng.choices(kinds, weights)[0])
            n += 1
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
    samples.append(sample(server, started))
    return results, samples


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 2 else (values[0] if values else 0.0)


def report(results: list[Result], samples: list[Sample], seconds: float, warmup: float) -> bool:
    """Print the figures and the checks; True when every check passes."""
    measured = [s for s in samples if s.at >= warmup]
    base = measured[0] if measured else samples[-1]
    end = samples[-1]
    growth = (end.rss - base.rss) / base.rss * 100
    fifth = max(1, len(measured) // 5)
    early, late = measured[:fifth] or [end], measured[-fifth:] or [end]
    fds_early, fds_late = statistics.median(s.fds for s in early), statistics.median(s.fds for s in late)
    files_early, files_late = statistics.median(s.files for s in early), statistics.median(s.files for s in late)
    window = (seconds - warmup) / 5
    first = [r.seconds for r in results if warmup <= r.at < warmup + window and not r.error]
    last = [r.seconds for r in results if r.at >= seconds - window and not r.error]
    drift = (p95(last) - p95(first)) / p95(first) * 100 if first and last else float("nan")
    errors = Counter(r.error for r in results if r.error)
    rate = len(results) / seconds
    print(f"\nsoak: {seconds / 60:.1f} min at {rate:.1f} requests/s ({len(results)} requests; warm-up {warmup:.0f}s)")
    print("  by kind: " + ", ".join(f"{k} {c} (p95 {p95([r.seconds for r in results if r.kind == k]) * 1000:.0f} ms)" for k, c in sorted(Counter(r.kind for r in results).items())))
    print(f"  resident memory: {base.rss / 1e6:.1f} MB after warm-up → {end.rss / 1e6:.1f} MB at the end ({growth:+.1f} %); first sample {samples[0].rss / 1e6:.1f} MB")
    print(f"  open files (median, first vs last fifth after warm-up): regular files {files_early:.0f} → {files_late:.0f}, "
          f"all descriptors {fds_early:.0f} → {fds_late:.0f} (range {min(s.fds for s in measured or [end])}–{max(s.fds for s in measured or [end])}); "
          f"threads {base.threads} → {end.threads}")
    print(f"  p95 latency: first window {p95(first) * 1000:.0f} ms, last window {p95(last) * 1000:.0f} ms (drift {drift:+.1f} %); overall p50 {statistics.median([r.seconds for r in results]) * 1000:.0f} ms")
    print(f"  errors: {sum(errors.values())}" + (f" ({dict(errors.most_common(5))})" if errors else ""))
    checks = {
        "memory growth ≤ 10 %": growth <= 10,
        # sockets of requests in flight come and go; a leak shows as a rising floor
        "open files stable": files_late <= files_early and fds_late <= fds_early * 1.2 + 5,
        "p95 drift ≤ 20 %": drift <= 20,
        "no errors": not errors,
    }
    return _print_checks(checks)


def _print_checks(checks: dict[str, bool]) -> bool:
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return all(checks.values())


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)  # our own child, by its pid
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds (default: a fifth of the run, at most 300)")
    parser.add_argument("--kb", type=Path, default=ROOT / "kb" / "build")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", default=None, help="service database URL (default: a fresh SQLite file)")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    seconds = args.minutes * 60
    warmup = args.warmup if args.warmup is not None else min(300.0, seconds / 5)
    rng = random.Random(args.seed)
    questions = [q.question for q in load_domain(ROOT / "eval" / "datasets" / "domain_qa.jsonl")]
    rng.shuffle(questions)
    folder = Path(tempfile.mkdtemp(prefix="gridkb-soak-"))
    admin_key = secrets.token_urlsafe(24)
    server, url = start_server(args, folder, admin_key)
    try:
        print(f"soak: server {url} (pid {server.pid}, {args.workers} worker(s)), log {folder / 'server.log'}", flush=True)
        traffic = Traffic(url, admin_key, questions, rng)
        results, samples = drive(traffic, server, seconds, args.rate, rng)
    finally:
        stop(server)
    ok = report(results, samples, seconds, warmup)
    achieved = len(results) / seconds >= 0.95 * args.rate
    print(f"  {'PASS' if achieved else 'FAIL'}  rate ≥ 95 % of {args.rate:g}/s")
    if ok and achieved:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok and achieved else 1


if __name__ == "__main__":
    sys.exit(main())
