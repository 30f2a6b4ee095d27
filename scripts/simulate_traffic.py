"""Simulate a day of customer-service traffic through the service desk and print the metrics.

A few thousand conversations drawn from the evaluation sets (domain questions, multi-turn
dialogues, unanswerable questions) plus small talk, requests for a human, complaints, dangers and
power-cut reports against a planned-outage notice arrive between 08:00 and 22:00 of one simulated
day; customers give feedback; a team of simulated agents works the ticket queue (assign, start,
resolve, some late). Everything goes through the real bot, ticket service and database.

    .venv/bin/python scripts/simulate_traffic.py --kb kb/build [--conversations 2000] [--db URL]

The default database is a new SQLite file in /tmp, so the real service database is never touched.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gridkb.config import Settings
from gridkb.evaluation.datasets import load_dialogues, load_domain, load_unanswerable
from gridkb.records import TicketStatus
from gridkb.service import GridService

CHINA = timezone(timedelta(hours=8))
DATASETS = Path("eval/datasets")
SMALL_TALK = ["你好", "您好，在吗", "谢谢", "好的谢谢", "你是机器人吗"]
COMPLAINTS = ["我要投诉，抢修师傅态度太差了", "报修两天了一直没人来处理，我要投诉", "营业厅工作人员推诿，我要投诉"]
DANGERS = ["门口电线断落了", "小区变压器冒烟了", "楼道电表箱打火了"]
OUTAGES = ["人民路停电了，什么时候来电", "幸福小区没电了", "我家停电了"]


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def conversations(rng: random.Random, count: int) -> list[list[str]]:
    domain = [q.question for q in load_domain(DATASETS / "domain_qa.jsonl")]
    dialogues = [[t.user for t in d.turns] for d in load_dialogues(DATASETS / "multiturn.jsonl")]
    unanswerable = [u.question for u in load_unanswerable(DATASETS / "unanswerable.jsonl")]
    mix = [
        (0.50, lambda: [rng.choice(domain)]),
        (0.15, lambda: rng.choice(dialogues)),
        (0.10, lambda: [rng.choice(unanswerable)]),
        (0.08, lambda: [rng.choice(SMALL_TALK[:2]), rng.choice(domain), rng.choice(SMALL_TALK[2:4])]),
        (0.06, lambda: [rng.choice(domain), "转人工"]),
        (0.04, lambda: [rng.choice(COMPLAINTS)]),
        (0.02, lambda: [rng.choice(DANGERS)]),
        (0.05, lambda: [rng.choice(OUTAGES)]),
    ]
    weights = [w for w, _ in mix]
    return [rng.choices(mix, weights)[0][1]() for _ in range(count)]


def work_tickets(desk: GridService, rng: random.Random, agents: list[str]) -> int:
    """The agents take what is new and resolve what they hold; roughly one in ten is late."""
    done = 0
    for ticket in desk.tickets.queue(status=[TicketStatus.NEW], limit=1000):
        desk.tickets.assign(ticket.number, rng.choice(agents), "dispatcher")
    for ticket in desk.tickets.queue(status=[TicketStatus.ASSIGNED], limit=1000):
        if rng.random() < 0.6:
            desk.tickets.transition(ticket.number, TicketStatus.IN_PROGRESS, ticket.assignee)
    for ticket in desk.tickets.queue(status=[TicketStatus.IN_PROGRESS], limit=1000):
        if desk.clock() > ticket.due_at - timedelta(hours=2) or rng.random() < 0.5:
            desk.tickets.resolve(ticket.number, "已与客户联系并处理完毕。", ticket.assignee)
            done += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=Path, default=Path("kb/build"))
    parser.add_argument("--db", default=None, help="service database URL (default: a new SQLite file in /tmp)")
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="gridkb-traffic-"))
    db = args.db or f"sqlite:///{workdir / 'service.sqlite'}"
    start = datetime(2026, 11, 24, 8, 0, tzinfo=CHINA)
    clock = SimulatedClock(start)
    desk = GridService(Settings(kb_dir=args.kb, database_url=db, published_dir=workdir / "published"), clock=clock)
    desk.live.warm_up()
    desk.notices.publish("planned_outage", "人民路 10kV 线路检修计划停电", ["人民路", "幸福小区"], start, start + timedelta(hours=10),
                         cause="线路检修", restoration="预计 18:00 恢复送电", created_by="operator")
    plan = conversations(rng, args.conversations)
    gap = timedelta(hours=14) / len(plan)
    agents = [f"agent-{i}" for i in range(1, 9)]
    turns = tickets = resolved_by_agents = 0
    latencies = []
    started = time.perf_counter()
    for number, messages in enumerate(plan, start=1):
        session = None
        for message in messages:
            before = time.perf_counter()
            reply = desk.chat(session, message)
            latencies.append((time.perf_counter() - before) * 1000)
            session = reply.session_id
            turns += 1
            tickets += reply.ticket_number is not None
            if rng.random() < 0.3:  # a third of the replies get feedback
                helpful = reply.resolved and rng.random() < 0.9
                desk.feedback(session, reply.message_id, helpful=helpful, rating=rng.choice([4, 5]) if helpful else rng.choice([1, 2, 3]))
            clock.now += timedelta(seconds=rng.randint(5, 40))
        clock.now = start + gap * number
        if number % 50 == 0:
            resolved_by_agents += work_tickets(desk, rng, agents)
    elapsed = time.perf_counter() - started
    clock.now = start + timedelta(hours=16)
    metrics = desk.metrics(since=start - timedelta(hours=1)).to_json()
    latencies.sort()
    print(f"{len(plan)} conversations, {turns} turns in {elapsed:.0f} s: {turns / elapsed:.1f} turns/s, "
          f"chat p50 {latencies[len(latencies) // 2]:.0f} ms, p95 {latencies[int(len(latencies) * 0.95)]:.0f} ms")
    print(f"tickets opened by the bot {tickets} ({tickets / elapsed * 60:.0f}/min of wall time), resolved by agents {resolved_by_agents}")
    print(json.dumps({k: v for k, v in metrics.items() if k != "daily"}, ensure_ascii=False, indent=1))
    print(f"database: {db}")


if __name__ == "__main__":
    main()
