"""The two seed documents, ingested as they were received, give clean and correctly structured text."""

import pytest

from gridkb.production.documents import load_document
from gridkb.production.structure import build_sections
from gridkb.records import BlockKind
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def standard():
    doc = load_document(SEEDS / "provincial-middle-platform-standard.txt", 1 << 24)
    return doc, build_sections(doc.id, doc.title, doc.blocks)


@pytest.fixture(scope="module")
def news():
    return load_document(SEEDS / "modern-power-supply-service-news.txt", 1 << 24)


def by_number(sections, number):
    found = [s for s in sections if s.number == number]
    assert len(found) == 1, f"clause {number}: {len(found)} sections"
    return found[0]


def test_clause_433_is_one_section_with_its_three_lists(standard):
    _, sections = standard
    clause = by_number(sections, "4.3.3")
    assert clause.title_path[1:] == ("4 平台架构", "4.3 执行保障层", "4.3.3")
    items = clause.list_items
    assert [i.text[:7] for i in items] == ["a) 知识生产", "b) 知识组织", "c) 知识应用"]
    assert items[1].text == "b) 知识组织侧：应实现对知识的细化生成与管理，包括知识分类、知识整合以及知识关联等内容；"
    assert clause.blocks[0].text.startswith("知识运营共享平台作为知识中台")


def test_clause_number_printed_after_heading(standard):
    _, sections = standard
    assert by_number(sections, "4.1.1").title_path[-2] == "4.1 一般规定"  # "一般规定 4.1" in the source
    assert by_number(sections, "4.4").title_path[-1] == "4.4 闭环管理层"
    assert by_number(sections, "5.4").title_path[1:] == ("5 管理体系", "5.4 评价管理")


def test_broken_lines_rejoined_without_spaces(standard):
    doc, sections = standard
    clause = by_number(sections, "4.1.2")
    assert clause.text == "省级业务中台架构如图 1 所示，主要由核心职能层、执行保障层以及闭环管理层三个层面的核心框架以及一个作为辅助支撑的数字化支撑平台组成。"
    assert "的规定起草。" in doc.text
    assert "程把控，需求接收应实时有效。" in by_number(sections, "4.2.2").text
    assert "图1 省级业务中台架构图" not in doc.text  # caption of a figure that is not there


def test_terms_clauses_take_their_title(standard):
    _, sections = standard
    term = by_number(sections, "3.1")
    assert term.title_path[-1] == "3.1 电网客户服务 grid customer service"
    assert term.text.startswith("电力供应过程中")


def test_every_list_item_belongs_to_a_clause(standard):
    _, sections = standard
    for section in sections:
        for block in section.blocks:
            if block.kind is BlockKind.LIST_ITEM:
                assert len(section.title_path) >= 3, section.title_path


def test_news_is_simplified_without_pinyin(news):
    assert "(wǎng)" not in news.text and "wǎng" not in news.text and "(" not in news.text[:200]
    assert "南方电网公司现代供电服务体系建设工作方案" in news.text
    assert "網" not in news.text and "網(wǎng)" in news.original_text
    assert "4个方面提出了13项具体措施" in news.text


def test_news_subheadings(news):
    sections = build_sections(news.id, news.title, news.blocks)
    titles = [s.title for s in sections]
    assert "先试点后推广围绕目标抓落实" in titles
    assert "构建前中后台业务架构快速响应并满足客户需求" in titles
