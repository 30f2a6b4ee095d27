"""The trust battery: checks against real components (a real server, database and knowledge base),
each recorded as one row (check, trials, failures).

The fast part runs in `make test`. `make battery` (scripts/battery.py) runs it with the long part
(``GRIDKB_BATTERY_LONG=1``: more trials, the soak) and prints the table. A check records its row
and then asserts, so a failure both fails the test and shows in the table.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

LONG = os.environ.get("GRIDKB_BATTERY_LONG") == "1"
REPORT_ENV = "GRIDKB_BATTERY_REPORT"

long_only = pytest.mark.skipif(not LONG, reason="long battery part: run by `make battery`")


def trials(fast: int, long: int) -> int:
    """How many trials a check runs: few in `make test`, the issue's count in `make battery`."""
    return long if LONG else fast


@dataclass
class CheckResult:
    check: str
    trials: int
    failures: int
    example: str = ""  # the first failure, for the table


class Battery:
    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    def record(self, check: str, trials: int, failures: list[str]) -> list[str]:
        """One row of the table; returns the failures so the test can assert on them."""
        self.results.append(CheckResult(check, trials, len(failures), failures[0][:160] if failures else ""))
        return failures


@pytest.fixture(scope="session")
def battery():
    record = Battery()
    yield record
    target = os.environ.get(REPORT_ENV)
    if target:
        path = Path(target)
        previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        path.write_text(json.dumps(previous + [asdict(r) for r in record.results], ensure_ascii=False, indent=1), encoding="utf-8")
