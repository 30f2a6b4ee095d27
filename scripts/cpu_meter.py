"""CPU used by the processes of a load test, from /proc (Linux): the server's process tree, the
PostgreSQL backends connected to its database, and the measuring process itself. On a machine other
programs share, a throughput varies with their load; the CPU each request costs much less."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used during a run by the server's processes, its PostgreSQL backends and this client."""

    server: float
    database: float
    client: float

    @property
    def total(self) -> float:
        return self.server + self.database + self.client


class CpuMeter:
    """CPU seconds of the server's process tree, of the PostgreSQL backends connected to its database
    (``pg_stat_activity``) and of this process, read from /proc (Linux)."""

    def __init__(self, server_pid: int, database_url: str) -> None:
        self.server_pid = server_pid
        self.database = database_url.rsplit("/", 1)[-1]
        self.admin = sqlalchemy.create_engine(database_url, isolation_level="AUTOCOMMIT")

    def read(self) -> dict[str, dict[int, float]]:
        """CPU seconds per process of each group."""
        with self.admin.connect() as connection:
            backends = connection.execute(
                sqlalchemy.text("SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": self.database}
            ).scalars().all()
        return {
            "server": {pid: _cpu_seconds(pid) for pid in _process_tree(self.server_pid)},
            "database": {pid: _cpu_seconds(pid) for pid in backends},
            "client": {os.getpid(): time.process_time()},
        }

    def since(self, before: dict[str, dict[int, float]]) -> CpuUse:
        """CPU used since ``before`` (a process that appeared since counts whole)."""
        now = self.read()
        used = {group: sum(seconds - before[group].get(pid, 0.0) for pid, seconds in now[group].items()) for group in now}
        return CpuUse(used["server"], used["database"], used["client"])

    def close(self) -> None:
        self.admin.dispose()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (0 when it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree
