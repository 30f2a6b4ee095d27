from pathlib import Path

from gridkb.production.chunking import chunk_document, split_sentences
from gridkb.production.documents import load_document
from gridkb.production.structure import build_sections
from tests.conftest import SEEDS


def chunks_of(path: Path, min_chars=60, max_chars=200):
    doc = load_document(path, 1 << 24)
    return doc, chunk_document(doc, build_sections(doc.id, doc.title, doc.blocks), min_chars, max_chars)


def test_chunks_never_split_a_sentence_and_respect_max():
    doc, chunks = chunks_of(SEEDS / "provincial-middle-platform-standard.txt", max_chars=150)
    sentences = {s for block in doc.blocks for s in split_sentences(block.text)}
    for chunk in chunks:
        for piece in chunk.text.split("\n"):
            for sentence in split_sentences(piece):
                assert sentence in sentences, sentence
        assert all(len(p) <= 150 or len(split_sentences(p)) == 1 for p in chunk.text.split("\n"))


def test_chunk_keeps_title_path_and_section():
    _, chunks = chunks_of(SEEDS / "provincial-middle-platform-standard.txt")
    clause = [c for c in chunks if c.title_path[-1] == "4.3.3"]
    assert clause and clause[0].title_path[0].startswith("电网企业省级业务中台运作模式")
    assert clause[0].section == "4 平台架构 › 4.3 执行保障层 › 4.3.3"
    assert all("c) 知识应用侧" in c.text for c in clause[-1:])


def test_ids_are_stable_across_runs_and_change_with_text(tmp_path: Path):
    path = tmp_path / "a.md"
    path.write_text("# 指南\n\n## 一、时限\n低压居民不超过 5 个工作日。\n\n## 二、资料\n身份证件。\n", encoding="utf-8")
    _, first = chunks_of(path)
    _, second = chunks_of(path)
    assert [c.id for c in first] == [c.id for c in second]
    path.write_text("# 指南\n\n## 一、时限\n低压居民不超过 7 个工作日。\n\n## 二、资料\n身份证件。\n", encoding="utf-8")
    _, third = chunks_of(path)
    assert third[0].id != first[0].id and third[1].id == first[1].id


def test_long_paragraph_split_at_sentence_ends(tmp_path: Path):
    paragraph = "".join(f"第{i}项，供电企业应按承诺时限完成装表接电工作。" for i in range(30))
    path = tmp_path / "long.md"
    path.write_text("# 长文\n\n## 一、说明\n" + paragraph + "\n", encoding="utf-8")
    _, chunks = chunks_of(path, max_chars=100)
    assert len(chunks) > 3
    assert all(c.text.endswith("。") and c.text.startswith("第") and len(c.text) <= 100 for c in chunks)
    assert "".join(c.text for c in chunks) == paragraph


def test_faq_entries_are_whole_chunks():
    from tests.conftest import FIXTURES

    doc, chunks = chunks_of(FIXTURES / "mini_corpus" / "public" / "常见问题.csv")
    faq_chunks = [c for c in chunks if c.faq_id]
    assert len(faq_chunks) == len(doc.faqs) == 3
    assert faq_chunks[0].text.startswith("问：电费可以在哪里交？\n答：") and faq_chunks[0].category == "payment"
