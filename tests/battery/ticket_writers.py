"""Processes that open tickets through the service store, each recording every acknowledged ticket,
for the kill -9 and backup checks.

A writer appends ``number<TAB>question`` to its own file with one unbuffered ``write`` as soon as
``TicketService.open`` returns: what is in the file was acknowledged (the kernel keeps it through a
kill -9 of the writer). A launcher process imports gridkb once and forks the writers (fifty start in
well under a second); told to stop, it kills -9 each of its own children, which it alone can name
without any risk of a reused pid.

    python -m tests.battery.ticket_writers URL COUNT FOLDER LIMIT    (the launcher; "kill" on stdin)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write_tickets(url: str, writer: int, acks: Path, limit: int, go: float) -> None:
    """One writer: open up to ``limit`` tickets, appending each acknowledged one to ``acks``."""
    from datetime import datetime, timezone

    from gridkb.organisation.taxonomy import Taxonomy
    from gridkb.records import TicketOrigin
    from gridkb.storage.service_db import ServiceStore
    from gridkb.tickets.service import TicketService
    from gridkb.tickets.sla import ServiceLevels

    store = ServiceStore(url, migrate_schema=False)
    service = TicketService(store, ServiceLevels.load(ROOT / "kb" / "service_levels.yaml"),
                            Taxonomy.load(ROOT / "kb" / "taxonomy.yaml"), lambda: datetime.now(timezone.utc))
    fd = os.open(acks, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    while time.time() < go:  # every writer starts together, so they contend from the first ticket
        time.sleep(0.005)
    for n in range(limit):
        question = f"电表箱门损坏 battery w{writer} #{n}"
        ticket = service.open(TicketOrigin.AGENT, question, actor=f"writer-{writer}")
        os.write(fd, f"{ticket.number}\t{question}\n".encode())
    os.close(fd)


def launch(url: str, count: int, folder: Path, limit: int) -> int:
    """The launcher: fork ``count`` writers, then wait until told to kill them (or one fails)."""
    import gridkb.tickets.service  # noqa: F401  - imported once, shared by every fork
    import gridkb.storage.service_db  # noqa: F401

    folder.mkdir(parents=True, exist_ok=True)
    go = time.time() + 0.3
    children = []
    for writer in range(count):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                write_tickets(url, writer, folder / f"writer-{writer}.acks", limit, go)
            except BaseException:
                traceback.print_exc()
                code = 1
            os._exit(code)
        children.append(pid)
    print("started", flush=True)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    alive, early = set(children), 0
    while alive and not stop.wait(0.02):
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            alive.discard(pid)  # reaped: its pid may be reused, never signal it again
            if status:
                print(f"writer {pid} failed with status {status}", file=sys.stderr, flush=True)
                early = 3
                break
    for pid in alive:
        os.kill(pid, signal.SIGKILL)  # our own unreaped child: the pid cannot have been reused
    for pid in alive:
        os.waitpid(pid, 0)
    return early


@dataclass
class WriterPool:
    launcher: subprocess.Popen[str]
    folder: Path

    def acknowledged(self) -> list[tuple[str, str]]:
        """(number, question) of every ticket acknowledged so far (a torn last line is not one)."""
        found = []
        for path in sorted(self.folder.glob("writer-*.acks")):
            for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
                if line.endswith("\n") and "\t" in line:
                    number, question = line.rstrip("\n").split("\t", 1)
                    found.append((number, question))
        return found

    def running(self) -> bool:
        return self.launcher.poll() is None

    def kill(self) -> str:
        """kill -9 every writer; returns what the launcher said on stderr (empty when all went well)."""
        try:
            self.launcher.stdin.write("kill\n")  # type: ignore[union-attr]
            self.launcher.stdin.flush()  # type: ignore[union-attr]
        except BrokenPipeError:  # the launcher stopped by itself
            pass
        _, errors = self.launcher.communicate(timeout=60)
        return errors.strip()


def start_writers(url: str, count: int, folder: Path, limit: int) -> WriterPool:
    """``count`` writer processes against ``url`` (schema already migrated), acknowledgements under ``folder``."""
    launcher = subprocess.Popen(
        [sys.executable, "-m", "tests.battery.ticket_writers", url, str(count), str(folder), str(limit)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    launcher.stdout.readline()  # type: ignore[union-attr]  # "started": every writer is forked
    return WriterPool(launcher, folder)


if __name__ == "__main__":
    sys.exit(launch(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])))
