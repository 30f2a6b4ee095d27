from gridkb.production.chunking import chunk_document
from gridkb.production.documents import load_document
from gridkb.production.extract import cn_to_int, extract, extract_quantities
from gridkb.production.structure import build_sections
from tests.conftest import SEEDS


def quantity_texts(text, lexicon):
    return [(q.text, q.kind) for q in extract_quantities(text, lexicon)]


def test_quantities_with_units(lexicon):
    found = quantity_texts("受理后 5 个工作日内答复；城区 45 分钟到达；第二档每千瓦时加价 0.05 元/千瓦时。", lexicon)
    assert ("5个工作日", "time_limit") in found
    assert ("45分钟", "time_limit") in found
    assert ("0.05元/千瓦时", "price") in found


def test_chinese_numerals_ranges_and_ratios(lexicon):
    found = quantity_texts("五个工作日内办结；第一档 0–200 千瓦时；跨年度欠费每日按千分之三计算；2025 年 1 月 1 日起执行。", lexicon)
    assert ("5个工作日", "time_limit") in found
    assert ("0–200千瓦时", "energy") in found
    assert ("千分之三", "ratio") in found
    assert not any(t in ("1日", "2025年") for t, _ in found)  # dates are not durations
    assert cn_to_int("二十二") == 22 and cn_to_int("十五") == 15 and cn_to_int("电") is None


def test_quantity_subject_is_the_entity_of_its_sentence(lexicon):
    (quantity,) = extract_quantities("低压居民用户从受理到装表接电不超过5个工作日。", lexicon)
    assert quantity.subject == "ent:低压居民用户"


def test_mentions_link_aliases(lexicon):
    assert lexicon.linked_entities("我的用户编号在哪看，缴费号是什么") == ["ent:户号"]
    assert "ent:分布式光伏" in lexicon.linked_entities("屋顶装太阳能发电要申请吗")
    assert lexicon.tokenize("业扩报装要多久")[:3] == ["业扩", "报装", "业扩报装"]


def test_terms_and_relations_from_the_standard(lexicon):
    doc = load_document(SEEDS / "provincial-middle-platform-standard.txt", 1 << 24)
    sections = build_sections(doc.id, doc.title, doc.blocks)
    result = extract(chunk_document(doc, sections, 60, 420), sections, lexicon)
    terms = {t.name: t for t in result.terms}
    assert terms["闭环管理"].english == "closed loop management"
    assert terms["电网客户服务"].definition.startswith("电力供应过程中")
    relations = {(r.source, r.type, r.target) for r in result.relations}
    assert ("ent:核心职能层", "包含", "ent:客户服务平台") in relations
    assert ("ent:核心职能层", "包含", "ent:产品运营平台") in relations
    assert ("ent:电网资源共享平台", "载体", "ent:生产指挥中心") in relations
    assert ("ent:省级业务中台", "组成", "ent:闭环管理层") in relations
    co = [r for r in result.relations if r.type == "co_occurs"]
    assert co and all(r.weight >= 1 and r.chunk_id for r in co)


def test_definition_sentences(lexicon, tmp_path):
    path = tmp_path / "t.md"
    path.write_text("# 术语\n\n## 一、说明\n表后线是指电能表出线端至用户设备之间的线路，属于用户产权。\n", encoding="utf-8")
    doc = load_document(path, 1 << 20)
    sections = build_sections(doc.id, doc.title, doc.blocks)
    result = extract(chunk_document(doc, sections, 60, 420), sections, lexicon)
    assert [(t.name, t.definition) for t in result.terms] == [("表后线", "电能表出线端至用户设备之间的线路，属于用户产权")]
