"""Defined terms: every entry of a 术语和定义 clause, whatever its layout and file format, becomes a term
with its definition; notes, examples and sources do not."""

import pytest

from gridkb.production.chunking import chunk_document
from gridkb.production.documents import load_document
from gridkb.production.structure import build_sections
from gridkb.production.terms import extract_terms
from tests.conftest import SEEDS
from tests.helpers import make_docx, make_pdf

# one clause, five layouts: number alone then title line; number and title on one line; the whole entry
# on one line with a colon; title, English and definition on one line; English on its own line
STANDARD = """供电服务规范
3 术语和定义
下列术语和定义适用于本文件。
3.1
供电企业  power supply enterprise
依法取得供电营业许可，从事供电业务的企业。
注：包括电网企业及其所属供电单位。
3.2 用电人 electricity user
与供电企业建立供用电关系的单位或个人。
3.3 计量装置：计量电能所必需的计量器具及其辅助设备的总称。
3.4 分布式光伏 distributed photovoltaic 在用户场址附近建设、以自发自用为主的光伏发电设施。
3.5
峰谷分时电价
time-of-use tariff
按高峰、平段、低谷时段分别计价的电价制度。
[来源：GB/T 00000—2020，2.1]
4 基本要求
4.1 供电企业应当公开服务承诺，用电人可以查询。
"""
EXPECTED = {
    "供电企业": ("power supply enterprise", "依法取得供电营业许可，从事供电业务的企业"),
    "用电人": ("electricity user", "与供电企业建立供用电关系的单位或个人"),
    "计量装置": ("", "计量电能所必需的计量器具及其辅助设备的总称"),
    "分布式光伏": ("distributed photovoltaic", "在用户场址附近建设、以自发自用为主的光伏发电设施"),
    "峰谷分时电价": ("time-of-use tariff", "按高峰、平段、低谷时段分别计价的电价制度"),
}


def terms_of(path):
    doc = load_document(path, 1 << 22)
    sections = build_sections(doc.id, doc.title, doc.blocks)
    chunks = chunk_document(doc, sections, 60, 420)
    terms = extract_terms(sections, chunks)
    assert all(t.chunk_id in {c.id for c in chunks} for t in terms)  # every term points at the chunk that defines it
    return {t.name: (t.english, t.definition) for t in terms}


def test_every_entry_of_a_terms_clause_in_every_layout(tmp_path):
    path = tmp_path / "standard.txt"
    path.write_text(STANDARD, encoding="utf-8")
    assert terms_of(path) == EXPECTED  # no note, source or clause text taken for a term or a definition


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_terms_clause_in_word_and_pdf(tmp_path, fmt):
    entries = ["3.1 供电企业 power supply enterprise", "依法取得供电营业许可，从事供电业务的企业。", "3.2 用电人：与供电企业建立供用电关系的单位或个人。"]
    if fmt == "docx":  # a heading style for the clause, entries in body style
        path = make_docx(tmp_path / "s.docx", "供电服务规范", [("3 术语和定义", ["下列术语和定义适用于本文件。", *entries]), ("4 基本要求", ["供电企业应当公开服务承诺。"])])
    else:  # number alone on its line, as many PDFs print it
        lines = ["供电服务规范", "3 术语和定义", "下列术语和定义适用于本文件。", "3.1", "供电企业 power supply enterprise",
                 "依法取得供电营业许可，从事供电业务的企业。", "3.2", "用电人 electricity user", "与供电企业建立供用电关系的单位或个人。", "4 基本要求"]
        path = make_pdf(tmp_path / "s.pdf", [lines])
    terms = terms_of(path)
    assert set(terms) == {"供电企业", "用电人"}
    assert terms["供电企业"] == EXPECTED["供电企业"]
    assert terms["用电人"][1] == EXPECTED["用电人"][1]


def test_listed_entries_under_a_glossary_heading_and_definitions_in_text(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text(
        "# 供电服务指南\n\n## 二、名词解释\n\n1. 峰谷电价：指按时段分别计价的电价。\n2. **户号**：供电企业为每个用电户编制的唯一编号。\n"
        "- 表后线：电能表出线端至用户设备之间的线路。\n\n## 三、办理流程\n\n"
        "本指南所称停电，包括计划停电和故障停电。对低压小微企业提供「三零」服务，即零上门、零审批、零投资。"
        "客户登录后进入「办电」栏目即可申请：选择业务后提交。\n",
        encoding="utf-8",
    )
    assert terms_of(path) == {
        "峰谷电价": ("", "按时段分别计价的电价"),
        "户号": ("", "供电企业为每个用电户编制的唯一编号"),
        "表后线": ("", "电能表出线端至用户设备之间的线路"),
        "停电": ("", "包括计划停电和故障停电"),
        "三零服务": ("", "零上门、零审批、零投资"),
    }  # "「办电」栏目即可申请" and "办理流程：…" are not definitions


def test_the_seed_standard_defines_three_terms():
    assert set(terms_of(SEEDS / "provincial-middle-platform-standard.txt")) == {"电网客户服务", "闭环管理", "服务能力"}
