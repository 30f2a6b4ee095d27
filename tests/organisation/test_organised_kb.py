"""Organisation inside a real build: categories in every index, validity, graph links, the report."""

import json
import os
import subprocess
import sys
from datetime import date

from gridkb.kb import KnowledgeBase
from gridkb.organisation.report import build_report
from gridkb.records import ChunkKind
from tests.conftest import ROOT


def test_chunks_carry_category_and_the_indexes_filter_by_it(built_kb):
    settings, _, _ = built_kb
    kb = KnowledgeBase(settings)
    codes = set(kb.taxonomy.codes)
    assert all(c.category in codes for c in kb.chunks)
    faq = next(c for c in kb.chunks if c.kind is ChunkKind.FAQ and "在哪里交" in c.text)
    assert faq.category == "payment"  # the sheet's curated label wins
    hits = kb.vectors.search(kb.embedder.embed_query("电费在哪里交"), 10, where={"category": "payment"})
    assert hits and all(kb.chunk_by_id[i].category == "payment" for i, _ in hits)
    assert kb.classify_question("怎么交电费").department == "客户服务中心"
    assert kb.classify_question("   ").category == "unknown"


def test_superseded_notice_is_kept_but_expired_and_linked(built_kb):
    settings, _, _ = built_kb
    kb = KnowledgeBase(settings)
    old = [c for c in kb.chunks if c.source.endswith("新装时限旧通知.md")]
    assert old and all(c.valid_to == "2024-12-31" and date.fromisoformat(c.valid_to) < date.today() for c in old)
    supersedes = [(u, v) for u, v, d in kb.graph.edges() if d["type"] == "supersedes"]
    assert len(supersedes) == 1
    assert kb.graph.node(supersedes[0][1])["label"].startswith("关于公布办电时限的通知")


def test_conflict_duplicates_and_related_links(built_kb):
    settings, _, _ = built_kb
    kb = KnowledgeBase(settings)
    (conflict,) = kb.conflicts
    winner = next(s for s in conflict.statements if s.chunk_id == conflict.preferred)
    assert winner.values == ("5个工作日",) and "supersedes" in conflict.reason
    groups = [g for g in kb.duplicates if any("45 分钟" in kb.chunk_by_id[m].text for m in g.members)]
    assert groups and kb.chunk_by_id[groups[0].canonical].kind is ChunkKind.FAQ
    assert all(kb.chunk_by_id[m].canonical_id == groups[0].canonical for m in groups[0].members[1:])
    edge_types = {d["type"] for _, _, d in kb.graph.edges()}
    assert {"in_category", "related", "duplicate_of", "mentions", "contains"} <= edge_types
    assert any(kb.graph.neighbours(f"chunk:{c.id}", {"related"}) for c in kb.chunks)


def test_report_library_and_cli_json(built_kb):
    settings, _, _ = built_kb
    report = build_report(KnowledgeBase(settings))
    assert len(report.coverage) == 14 and "platform" in {c.code for c in report.coverage}
    assert "ev" in report.thin_categories  # nothing in the mini corpus covers charging
    env = {**os.environ, "GRIDKB_CONFIG_DIR": str(ROOT / "kb")}
    result = subprocess.run([sys.executable, "-m", "gridkb.cli", "kb", "report", "--kb", str(settings.kb_dir), "--json"],
                            capture_output=True, text=True, env=env, timeout=120)
    data = json.loads(result.stdout)
    assert {"coverage", "duplicates", "conflicts", "thin_categories"} <= set(data)
    assert len(data["conflicts"]) == 1
