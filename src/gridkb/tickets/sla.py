"""Service levels of tickets (``kb/service_levels.yaml``) and the working-day calendar they count in.

"5 个工作日内答复" counts China's official working days: public holidays are off and the make-up
Saturdays and Sundays (调休) are working days, from the ``chinese-calendar`` package; for a year it
does not know yet, Monday to Friday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import yaml

from gridkb.errors import ConfigError
from gridkb.records import Priority, Queue, TicketOrigin

_DURATION = re.compile(r"^\s*(\d+)\s*(minutes?|hours?|working days?)\s*$")


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the calendar has no data for yet
        return day.weekday() < 5


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` moved forward by ``days`` working days, at the same time of day.

    A ticket opened on a holiday starts counting on the next working day: opened on a Saturday,
    "1 working day" ends on Monday at the end of the day it would have had.
    """
    moment = start
    if not is_working_day(moment.date()):
        while not is_working_day(moment.date()):
            moment += timedelta(days=1)
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=0) - timedelta(days=1)
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if is_working_day(moment.date()):
            remaining -= 1
    return moment


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # minutes | hours | working_days

    @classmethod
    def parse(cls, text: str) -> "Duration":
        match = _DURATION.match(str(text))
        if not match:
            raise ValueError(f"'{text}' is not 'N minutes', 'N hours' or 'N working days'")
        unit = match.group(2).rstrip("s").replace(" ", "_").replace("working_day", "working_days")
        return cls(int(match.group(1)), {"minute": "minutes", "hour": "hours"}.get(unit, unit))

    def describe(self) -> str:
        """In words a customer reads: "15 分钟", "2 小时", "3 个工作日"."""
        unit = {"minutes": "分钟", "hours": "小时"}.get(self.unit, "个工作日")
        return f"{self.amount} {unit}"

    def after(self, start: datetime) -> datetime:
        if self.unit == "minutes":
            return start + timedelta(minutes=self.amount)
        if self.unit == "hours":
            return start + timedelta(hours=self.amount)
        return add_working_days(start, self.amount)


@dataclass(frozen=True)
class ServiceLevel:
    priority: Priority
    queue: Queue
    first_response: Duration
    resolve: Duration
    promise: str


class ServiceLevels:
    def __init__(self, levels: dict[TicketOrigin, ServiceLevel]) -> None:
        self.levels = levels

    def __getitem__(self, origin: TicketOrigin) -> ServiceLevel:
        return self.levels[origin]

    @classmethod
    def load(cls, path: Path) -> "ServiceLevels":
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"{path}: cannot read the service levels ({error})") from error
        levels = {}
        for origin in TicketOrigin:
            entry = data.get(origin.value)
            if not isinstance(entry, dict):
                raise ConfigError(f"{path}: no service level for '{origin.value}'")
            try:
                levels[origin] = ServiceLevel(
                    Priority(entry["priority"]), Queue(entry["queue"]), Duration.parse(entry["first_response"]),
                    Duration.parse(entry["resolve"]), str(entry.get("promise", "")),
                )
            except (KeyError, ValueError) as error:
                raise ConfigError(f"{path}: service level '{origin.value}': {error}") from error
        return cls(levels)
