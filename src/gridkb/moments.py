"""Time zone arithmetic that cannot overflow.

Any date a person or a client may type is representable (0001-01-01 to 9999-12-31), but moving it
to another time zone can step past either end of the calendar (0001-01-01T00:00 in Beijing is still
year 0 in UTC). There the instant is clamped to the calendar's end: "since the beginning of time" and
"until further notice" keep their meaning instead of becoming a crash.
"""

from __future__ import annotations

from datetime import MINYEAR, datetime, timedelta, timezone, tzinfo

CHINA = timezone(timedelta(hours=8))  # a time written without an offset is Beijing time


def in_zone(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` (aware) expressed in ``zone``; clamped to the first or last representable instant."""
    try:
        return moment.astimezone(zone)
    except OverflowError:
        edge = datetime.min if moment.year == MINYEAR else datetime.max
        return edge.replace(tzinfo=zone)


def assume_china(moment: datetime) -> datetime:
    """An aware ``moment``: a naive one is read as Beijing time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA)
