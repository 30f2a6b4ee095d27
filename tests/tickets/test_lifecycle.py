"""Ticket lifecycle, routing, SLA in working days, masking by role — on SQLite and PostgreSQL."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gridkb.errors import InvalidTransitionError, TicketError
from gridkb.organisation.taxonomy import Taxonomy
from gridkb.privacy import mask_personal_data
from gridkb.records import Role, TicketOrigin, TicketStatus
from gridkb.storage.service_db import ServiceStore
from gridkb.tickets.service import TicketService
from gridkb.tickets.sla import Duration, ServiceLevels, add_working_days

ROOT = Path(__file__).resolve().parents[2]
CHINA = timezone(timedelta(hours=8))
S = TicketStatus


@pytest.fixture()
def service(database_url, clock):
    store = ServiceStore(database_url)
    yield TicketService(store, ServiceLevels.load(ROOT / "kb" / "service_levels.yaml"), Taxonomy.load(ROOT / "kb" / "taxonomy.yaml"), clock)
    store.close()


def _open(service, **kwargs):
    return service.open(TicketOrigin.ABSTAINED, kwargs.pop("question", "低保户有电费补贴吗"), "bot", category=kwargs.pop("category", "billing"), **kwargs)


def test_every_transition_of_the_lifecycle(service, clock):
    ticket = _open(service)
    assert ticket.status is S.NEW and ticket.department == "电费核算中心" and ticket.number.startswith("GD20261124-")
    ticket = service.transition(ticket.number, S.TRIAGED, "lead")
    ticket = service.assign(ticket.number, "agent-7", "lead")
    assert ticket.status is S.ASSIGNED and ticket.assignee == "agent-7"
    clock.advance(hours=1)
    ticket = service.transition(ticket.number, S.IN_PROGRESS, "agent-7")
    assert ticket.first_responded_at == clock.now
    ticket = service.resolve(ticket.number, "目前没有针对低保户的专项电费补贴，可咨询当地民政部门。", "agent-7")
    ticket = service.transition(ticket.number, S.CLOSED, "agent-7")
    assert ticket.closed_at is not None
    ticket = service.transition(ticket.number, S.REOPENED, "lead", note="客户不满意")
    assert ticket.resolved_at is None and ticket.closed_at is None
    ticket = service.transition(ticket.number, S.IN_PROGRESS, "agent-7")
    ticket = service.resolve(ticket.number, "补充答复", "agent-7")
    ticket = service.transition(ticket.number, S.REOPENED, "lead")  # resolved → reopened too
    ticket = service.assign(ticket.number, "agent-8", "lead")
    history = [(e.actor, e.action, e.from_status, e.to_status) for e in service.get(ticket.number).events]
    assert history[0] == ("bot", "created", "", "new")
    assert [h[3] for h in history] == ["new", "triaged", "assigned", "in_progress", "resolved", "closed", "reopened", "in_progress",
                                        "resolved", "reopened", "assigned"]


@pytest.mark.parametrize(
    "path, target",
    [
        ([], S.IN_PROGRESS),  # new → in_progress skips assignment
        ([], S.CLOSED),
        ([S.TRIAGED], S.TRIAGED),
        ([S.TRIAGED], S.REOPENED),
    ],
)
def test_invalid_transitions_are_refused_clearly(service, path, target):
    ticket = _open(service)
    for step in path:
        ticket = service.transition(ticket.number, step, "lead")
    with pytest.raises(InvalidTransitionError, match=f"不能变更为 {target.value}"):
        service.transition(ticket.number, target, "lead")
    assert service.get(ticket.number).status is ticket.status  # nothing changed


def test_resolve_and_assign_need_their_fields(service):
    ticket = _open(service)
    with pytest.raises(InvalidTransitionError, match="resolve"):
        service.transition(ticket.number, S.RESOLVED, "lead")
    with pytest.raises(InvalidTransitionError):
        service.resolve(ticket.number, "答复", "lead")  # not in progress yet
    with pytest.raises(TicketError):
        service.assign(ticket.number, " ", "lead")
    with pytest.raises(TicketError, match="没有编号"):
        service.get("GD19990101-000001")
    with pytest.raises(TicketError, match="未知的业务分类"):
        _open(service, category="astrology")


def test_routing_follows_the_category_with_a_manual_override(service):
    ticket = _open(service, category="solar")
    assert ticket.department == "新能源服务中心"
    ticket = service.route(ticket.number, "营销部业扩室", "lead", note="涉及增容")
    assert ticket.department == "营销部业扩室"
    assert service.get(ticket.number).events[-1].detail == {"from": "新能源服务中心", "to": "营销部业扩室", "note": "涉及增容"}


def test_sla_in_working_days():
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA)
    assert add_working_days(tuesday, 5) == datetime(2026, 12, 1, 10, 0, tzinfo=CHINA)
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=CHINA)
    assert add_working_days(friday, 1) == datetime(2026, 11, 30, 10, 0, tzinfo=CHINA)  # over the weekend
    before_holiday = datetime(2026, 9, 30, 10, 0, tzinfo=CHINA)
    assert add_working_days(before_holiday, 1) == datetime(2026, 10, 8, 10, 0, tzinfo=CHINA)  # National Day week
    assert add_working_days(datetime(2026, 10, 9, 10, 0, tzinfo=CHINA), 1).date().isoformat() == "2026-10-10"  # a make-up Saturday
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=CHINA)
    assert add_working_days(saturday, 1).date().isoformat() == "2026-11-30"
    assert add_working_days(datetime(2027, 3, 5, 9, 0, tzinfo=CHINA), 1).weekday() == 0  # no calendar yet: weekends only
    assert Duration.parse("45 minutes").after(tuesday) == tuesday + timedelta(minutes=45)
    with pytest.raises(ValueError):
        Duration.parse("soon")


def test_sla_breach_and_overdue_queue(service, clock):
    ticket = service.open(TicketOrigin.COMPLAINT, "抢修太慢", "bot", category="complaint")
    assert ticket.first_response_due == clock.now + timedelta(hours=24)
    assert service.queue(overdue=True) == []
    clock.advance(days=8)
    assert [t.number for t in service.queue(overdue=True)] == [ticket.number]
    assert service.get(ticket.number).breached(clock.now)


def test_contact_details_are_masked_for_roles_that_need_not_see_them(service):
    ticket = service.open(TicketOrigin.HANDOFF, "我户号0301567842，电话13812345678，想查欠费", "bot", category="payment", contact="13812345678")
    ticket = service.assign(ticket.number, "agent-7", "lead")
    other = service.view(ticket, Role.AGENT, "agent-9")
    assert other.contact == "138****5678" and "13812345678" not in other.question and "0301567842" not in other.question
    assert service.view(ticket, Role.AGENT, "agent-7").contact == "13812345678"  # the agent handling it
    assert service.view(ticket, Role.ADMIN).contact == "13812345678"


def test_masking_rules():
    assert mask_personal_data("手机13812345678") == "手机138****5678"
    assert mask_personal_data("身份证440104199001011234") == "身份证440***********1234"
    assert mask_personal_data("卡号 6222 0200 1234 5678") == "卡号 6222 **** **** 5678"
    assert "0108823456" not in mask_personal_data("户号是 0108823456")
    for safe in ("5 个工作日", "0.59 元/千瓦时", "95598", "GD20261124-000123", "2026年10月1日"):
        assert mask_personal_data(safe) == safe
