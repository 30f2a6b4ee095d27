"""Intent detection and temporary notices."""

from datetime import timedelta

import pytest

from gridkb.chat.intents import Intent, detect
from gridkb.errors import InvalidNoticeError


@pytest.mark.parametrize(
    "message, intent",
    [
        ("你好", Intent.GREETING),
        ("在吗？", Intent.GREETING),
        ("好的谢谢", Intent.THANKS),
        ("你是机器人吗", Intent.CHITCHAT),
        ("转人工", Intent.HUMAN),
        ("我要人工客服", Intent.HUMAN),
        ("我要投诉，抢修师傅态度太差了", Intent.COMPLAINT),
        ("门口电线断落了", Intent.URGENT),
        ("變壓器冒煙了", Intent.URGENT),
        ("我家停电了", Intent.OUTAGE),
        ("人民路什么时候来电", Intent.OUTAGE),
        ("电费怎么交", Intent.QUESTION),
        ("投诉渠道有哪些", Intent.QUESTION),  # asking about complaints is not complaining
        ("计划停电提前几天通知", Intent.QUESTION),
    ],
)
def test_intents(message, intent):
    assert detect(message).intent is intent


def test_flags_ride_along_with_the_main_intent():
    detected = detect("想投诉你们供电所的人 态度太差了 打哪个电话")
    assert detected.intent is Intent.COMPLAINT and detected.complaint
    assert detect("如果有人触电了应该怎么办").hypothetical
    assert not detect("有人触电了").hypothetical


def test_notices_match_areas_and_expire(desk, clock):
    board = desk.notices
    notice = board.publish("planned_outage", "人民路线路检修", ["人民路", "幸福小区"], clock.now, clock.now + timedelta(hours=8),
                           cause="线路检修", restoration="预计 18:00 恢复送电")
    assert [m.notice.id for m in board.match("人民路停电了，什么时候来电")] == [notice.id]
    assert board.match("幸福小区没电了")[0].area == "幸福小区"
    assert board.match("幸福家园没电了") == []
    clock.advance(hours=9)
    assert board.match("人民路停电了") == []  # expired by itself
    assert board.all()[0].id == notice.id  # and stays on record


def test_notice_expired_by_hand(desk, clock):
    notice = desk.notices.publish("fault_outage", "城东片区故障停电", ["城东"], clock.now, clock.now + timedelta(hours=4))
    desk.notices.expire(notice.id)
    assert desk.notices.active() == []


@pytest.mark.parametrize(
    "kind, title, areas, hours, message",
    [
        ("meteor", "t", ["a区"], 1, "未知的公告类型"),
        ("planned_outage", " ", ["a区"], 1, "标题"),
        ("planned_outage", "t", [], 1, "影响区域"),
        ("planned_outage", "t", ["a区"], -1, "结束时间"),
    ],
)
def test_bad_notices_are_refused(desk, clock, kind, title, areas, hours, message):
    with pytest.raises(InvalidNoticeError, match=message):
        desk.notices.publish(kind, title, areas, clock.now, clock.now + timedelta(hours=hours))
