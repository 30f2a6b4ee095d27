"""Time zone arithmetic at the edges of the calendar, and the text sanitiser at every entry."""

from datetime import datetime, timedelta, timezone

from gridkb.moments import CHINA, assume_china, in_zone
from gridkb.production.normalize import clean_text


def test_moving_an_instant_past_the_calendar_clamps_to_its_edge():
    first = datetime(1, 1, 1, tzinfo=CHINA)  # year 0 in UTC
    last = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-1)))  # year 10000 in UTC
    assert in_zone(first, timezone.utc) == datetime.min.replace(tzinfo=timezone.utc)
    assert in_zone(last, CHINA) == datetime.max.replace(tzinfo=CHINA)
    ordinary = datetime(2026, 7, 1, 8, tzinfo=CHINA)
    assert in_zone(ordinary, timezone.utc) == datetime(2026, 7, 1, 0, tzinfo=timezone.utc)


def test_a_time_without_offset_is_beijing_time():
    assert assume_china(datetime(2026, 7, 1, 8)).utcoffset() == timedelta(hours=8)
    aware = datetime(2026, 7, 1, 8, tzinfo=timezone.utc)
    assert assume_china(aware) is aware


def test_clean_text_drops_controls_and_lone_surrogates_and_keeps_the_rest():
    assert clean_text("\x00\x00") == ""
    assert clean_text(" 停电\x00了\x85\ud800 ") == "停电了"
    assert clean_text("第一行\n第二行\t完") == "第一行\n第二行\t完"
    assert clean_text("ＡＢＣ １３８") == "ＡＢＣ １３８"  # width folding is the normaliser's job, not this one
