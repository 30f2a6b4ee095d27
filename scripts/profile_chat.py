"""Where a chat turn's time goes: the real service (bot, question answerer, ticket and session
storage) driven in-process with the conversations of ``load_chat.py``.

Each stage of the ``/api/chat`` path is wrapped in a timer (a handful of wrappers, so the figures
are not inflated the way a tracing profiler inflates small Python functions) and the script prints,
per turn, each stage's CPU milliseconds (CPU time of the thread: other programs on the machine
matter little), wall milliseconds (which include waiting for the database server) and calls.
Stages nest: a stage's time includes the stages indented under it.

    .venv/bin/python scripts/profile_chat.py --turns 300 --unique    # every question new
    .venv/bin/python scripts/profile_chat.py --turns 300             # questions repeat (warm caches)
    .venv/bin/python scripts/profile_chat.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test --cprofile 30

Without ``--db`` the service database is a throw-away SQLite file. With ``--db`` a fresh database is
created on that PostgreSQL server for the run and dropped afterwards. ``--cprofile N`` also runs
the turns under cProfile and prints the N functions with the most own time.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import os
import pstats
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_chat import conversations, fresh_postgres_database, load_average, unique_message  # noqa: E402

from gridkb.config import Settings  # noqa: E402
from gridkb.records import Audience  # noqa: E402
from gridkb.service import GridService  # noqa: E402

# (where, label): the stages of one /api/chat turn, outermost first; "store:" and "embedder:" name a
# method of the service database's or the embedder's class, anything else "module:attribute" where
# the caller looks it up
STAGES = (
    ("gridkb.chat.bot:ChatBot.reply", "bot: the whole turn"),
    ("gridkb.chat.bot:detect", "  intent detection"),
    ("gridkb.application.qa:QuestionAnswerer.contextualise", "  follow-up rewriting (all calls)"),
    ("gridkb.application.qa:QuestionAnswerer.trace", "  question answerer"),
    ("gridkb.application.qa:check", "    guards"),
    ("gridkb.application.search:Searcher.prepare", "    query preparation (all calls)"),
    ("gridkb.application.qa:QuestionAnswerer.in_domain", "    domain gate"),
    ("gridkb.application.analysis:QuestionAnalyser.analyse", "    question analysis (all calls)"),
    ("gridkb.application.search:Searcher.retrieve", "    hybrid retrieval"),
    ("embedder:embed_query", "      query embedding (all calls)"),
    ("gridkb.application.search:Searcher.rankings", "      the four retrievers"),
    ("gridkb.organisation.classify:CategoryClassifier.classify", "      category classifier (all calls)"),
    ("gridkb.application.search:Searcher._collapse", "      collapse + snippets"),
    ("gridkb.application.candidates:CandidateFinder.run", "    candidate features"),
    ("gridkb.application.rerank:Reranker.run", "    reranker"),
    ("gridkb.application.qa:QuestionAnswerer._decide", "    compose + confidence"),
    ("gridkb.kb:KnowledgeBase.classify_question", "  routing an unresolved question"),
    ("gridkb.chat.notices:NoticeBoard.active", "  active notices (outage)"),
    ("store:create_session", "  db: create a session"),
    ("store:session_channel", "  db: find the session"),
    ("store:messages", "  db: read the conversation"),
    ("store:add_messages", "  db: write the turn"),
    ("store:insert_ticket", "  db: open a ticket"),
)


class StageTimers:
    """Wraps each stage in a timer: CPU (thread) and wall seconds, calls; re-entrant calls count once."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.wall: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.active = False

    def install(self, classes: dict[str, type]) -> None:
        """``classes``: the classes behind the "store:" and "embedder:" stages."""
        for where, label in STAGES:
            owner, name = _owner(where, classes)
            setattr(owner, name, self._timed(getattr(owner, name), label))

    def _timed(self, function: Callable[..., Any], label: str) -> Callable[..., Any]:
        depth = 0

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            nonlocal depth
            if not self.active or depth:
                return function(*args, **kwargs)
            depth += 1
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                depth -= 1
                self.cpu[label] += time.thread_time() - cpu
                self.wall[label] += time.perf_counter() - wall
                self.calls[label] += 1

        return timed


def _owner(where: str, classes: dict[str, type]) -> tuple[Any, str]:
    """The object holding the stage's attribute (a module or a class) and the attribute's name."""
    module, path = where.split(":")
    if module in classes:
        return classes[module], path
    owner: Any = importlib.import_module(module)
    *classes, name = path.split(".")
    for cls in classes:
        owner = getattr(owner, cls)
    return owner, name


def turns(plan: list[list[str]], count: int, unique: bool, seed: int) -> Iterator[tuple[bool, str]]:
    """(starts a new conversation, message) like one ``load_chat.py`` customer."""
    rng = random.Random(seed)
    serials = random.Random(uuid.uuid4().int)  # new in every run: no cache holds an earlier run's questions
    produced = 0
    while True:
        for position, message in enumerate(rng.choice(plan)):
            if produced == count:
                return
            produced += 1
            yield position == 0, unique_message(message, serials) if unique else message


@contextmanager
def service_database(url: str | None) -> Iterator[str]:
    if url:
        with fresh_postgres_database(url) as fresh:
            yield fresh
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/service.sqlite"


def hold_every_conversation(service: GridService, plan: list[list[str]]) -> None:
    """Every distinct conversation of the plan once: the repeated questions' vectors in the memo."""
    for messages in {tuple(c): c for c in plan}.values():
        session = None
        for message in messages:
            session = service.chat(session, message, "widget", Audience.PUBLIC).session_id


def converse(service: GridService, plan: list[list[str]], count: int, unique: bool, seed: int) -> tuple[float, float]:
    """Run ``count`` turns; returns CPU seconds (this thread) and wall seconds."""
    session: str | None = None
    cpu, wall = time.thread_time(), time.perf_counter()
    for new, message in turns(plan, count, unique, seed):
        session = service.chat(None if new else session, message, "widget", Audience.PUBLIC).session_id
    return time.thread_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=Path, default=Path("kb/build"))
    parser.add_argument("--db", help="a PostgreSQL URL (a fresh database is made on that server); default: a temporary SQLite file")
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--unique", action="store_true", help="every question new, as load_chat.py --unique")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="also profile with cProfile and print the N functions with the most own time")
    args = parser.parse_args()
    os.environ.setdefault("GRIDKB_EMBEDDING_THREADS", "1")  # as each of `gridkb serve --workers 2`
    timers = StageTimers()
    plan = conversations()
    with service_database(args.db) as url:
        service = GridService(Settings(kb_dir=args.kb, database_url=url))
        service.live.warm_up()
        if not args.unique:  # the repeated questions' vectors in the memo, as on a server that has run a while
            hold_every_conversation(service, plan)
        timers.install({"store": type(service.store), "embedder": type(service.live.current().kb.embedder)})
        timers.active = True
        cpu, wall = converse(service, plan, args.turns, args.unique, args.seed + 1)
        timers.active = False
        profiler = cProfile.Profile()
        if args.cprofile:
            profiler.runcall(converse, service, plan, args.turns, args.unique, args.seed + 2)
        service.store.close()
    kind = "every question new" if args.unique else "questions repeat"
    print(f"{args.turns} turns ({kind}), database {'PostgreSQL' if args.db else 'SQLite'}, {load_average()}")
    print(f"per turn: {1000 * cpu / args.turns:.1f} ms CPU, {1000 * wall / args.turns:.1f} ms wall")
    print(f"{'stage':40} {'CPU ms':>7} {'wall ms':>8} {'calls':>6}   (per turn)")
    for _, label in STAGES:
        n = args.turns
        print(f"{label:40} {1000 * timers.cpu[label] / n:7.2f} {1000 * timers.wall[label] / n:8.2f} {timers.calls[label] / n:6.2f}")
    if args.cprofile:
        print(f"\nthe {args.cprofile} functions with the most own time (cProfile, wall clock):")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.cprofile)


if __name__ == "__main__":
    main()
