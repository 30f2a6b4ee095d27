"""Chinese display labels: every enum shown to people has one; taxonomy codes show their names."""

from pathlib import Path

import pytest

from gridkb.labels import ENUM_LABELS, category_name, label
from gridkb.organisation.taxonomy import Taxonomy
from gridkb.records import Priority, Queue, TicketStatus

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("enum", list(ENUM_LABELS), ids=lambda e: e.__name__)
def test_every_member_has_a_chinese_label(enum):
    missing = [m for m in enum if m.value not in ENUM_LABELS[enum]]
    assert not missing, f"{enum.__name__} members without a label in gridkb/labels.py: {missing}"
    for member in enum:
        text = label(member)
        assert text and any("\u4e00" <= ch <= "\u9fff" for ch in text), (member, text)


def test_labels_by_member_and_by_code():
    assert label(Priority.URGENT) == "紧急" == label("urgent")
    assert label(Queue.KNOWLEDGE) == "知识缺口" == label("knowledge")
    assert label(TicketStatus.IN_PROGRESS) == "处理中" and label("triaged") == "已分诊"
    assert label("not_in_knowledge_base") == "知识库无答案"
    assert label("supersedes") == "取代"
    assert label("safety+faq") == "安全提示+常见问题"


def test_unknown_codes_fall_back_to_themselves():
    assert label("brand_new_code") == "brand_new_code"
    assert label(None) == ""


def test_category_names_come_from_the_taxonomy():
    taxonomy = Taxonomy.load(REPO / "kb" / "taxonomy.yaml")
    assert category_name("connection", taxonomy) == "业扩报装（新装、增容）"
    assert category_name("billing.tariff", taxonomy) == "电价标准"
    assert category_name("unknown", taxonomy) == category_name("", taxonomy) == "未分类"
    assert category_name("no_such_code", taxonomy) == "no_such_code"


def test_every_ticket_action_has_a_caption():
    from gridkb.labels import action_label
    from gridkb.tickets.service import TRANSITIONS

    for targets in TRANSITIONS.values():
        for status in targets:
            if status.value not in ("resolved", "assigned"):  # those are the resolve and assign actions
                assert action_label("transition", status.value) != status.value
    for action in ("assign", "resolve", "route", "contacted", "approve", "reject", "note"):
        assert action_label(action) != action
