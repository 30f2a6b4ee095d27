"""Run the trust battery against real components and print one table: each check, trials, failures.

    python scripts/battery.py [--long] [--markdown]

The fast part is the same as in `make test`; ``--long`` adds the issue's full trial counts and the
soak (``GRIDKB_BATTERY_LONG=1``). The checks live in ``tests/battery/``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--long", action="store_true", help="full trial counts and the soak")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, e.g. -k erasure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "battery.json"
        env = {**os.environ, "GRIDKB_BATTERY_REPORT": str(report)}
        if args.long:
            env["GRIDKB_BATTERY_LONG"] = "1"
        status = subprocess.call([sys.executable, "-m", "pytest", "-q", "tests/battery", *args.pytest_args], cwd=ROOT, env=env)
        rows = json.loads(report.read_text(encoding="utf-8")) if report.exists() else []
    print_table(rows, args.markdown)
    return status


def print_table(rows: list[dict], markdown: bool) -> None:
    if markdown:
        print("| check | trials | failures |\n|---|---|---|")
        for r in rows:
            print(f"| {r['check']} | {r['trials']} | {r['failures']} |")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="trust battery")
    for column in ("check", "trials", "failures", "first failure"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r["check"], str(r["trials"]), str(r["failures"]), r["example"], style="red" if r["failures"] else None)
    Console().print(table)


if __name__ == "__main__":
    sys.exit(main())
