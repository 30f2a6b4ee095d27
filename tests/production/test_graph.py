"""Generic words (用户, 办理, 供电 …) are kept out of the knowledge graph as entities: a configurable
stoplist in kb/ and a document-frequency rule, so that they do not make every node a neighbour of every other."""

from dataclasses import replace

import pytest

from gridkb.errors import ConfigError
from gridkb.kb import KnowledgeBase
from gridkb.production.chunking import chunk_document
from gridkb.production.documents import load_document
from gridkb.production.extract import extract
from gridkb.production.graph import GenericWords, build_graph, document_counts
from gridkb.production.structure import build_sections
from gridkb.records import Entity, Quantity, Relation
from tests.conftest import ROOT

DOCS = {
    "a.md": "# 光伏并网\n\n## 申请\n\n用户办理分布式光伏并网，需提交资料。",
    "b.md": "# 峰谷电价\n\n## 执行\n\n用户可以办理峰谷电价，按时段计费。",
    "c.md": "# 充电桩\n\n## 报装\n\n用户办理充电桩报装，需提交车位证明。",
}


def entity(name, kind="keyword"):
    return Entity(f"ent:{name}", name, kind)


def test_the_stoplist_in_kb_names_the_generic_words():
    words = GenericWords.load(ROOT / "kb").words
    assert {"用户", "办理", "模式", "项目", "资料", "供电"} <= words


def test_listed_words_and_words_in_most_documents_are_not_entities():
    rule = GenericWords(frozenset({"办理"}), max_document_share=0.5, min_documents=3)
    texts = ["用户申请光伏并网", "用户缴纳电费", "用户查询峰谷电价", "抢修人员到达现场"]
    candidates = [entity("办理"), entity("用户"), entity("峰谷电价"), entity("光伏并网"), entity("抢修人员", "concept")]
    assert rule.entity_ids(candidates, texts) == {"ent:办理", "ent:用户"}  # 用户: 3 of 4 documents
    # a dictionary entity is the operator's choice: the share rule spares it, the list does not
    assert rule.entity_ids(candidates, texts, curated={"ent:用户", "ent:办理"}) == {"ent:办理"}
    # too few documents to tell what is common: only the list applies
    assert GenericWords(frozenset(), 0.5, min_documents=5).entity_ids(candidates, texts) == set()


def test_a_broken_stoplist_is_a_clear_error(tmp_path):
    (tmp_path / "generic_words.yaml").write_text("max_document_share: 3\nwords: [用户]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="max_document_share"):
        GenericWords.load(tmp_path)
    assert GenericWords.load(tmp_path / "absent").words == frozenset()


def test_generic_entities_leave_the_graph_with_their_edges(tmp_path, lexicon):
    documents, discovered = [], []
    for name, text in DOCS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        doc = load_document(tmp_path / name, 1 << 20)
        sections = build_sections(doc.id, doc.title, doc.blocks)
        result = extract(chunk_document(doc, sections, 10, 420), sections, lexicon)
        # make sure the generic words are candidates, whatever the keyword extractor picked
        chunks = [replace(c, entities=(*c.entities, "ent:用户", "ent:资料"), quantities=(Quantity("5", "个工作日", "time_limit", "", "ent:用户"),))
                  for c in result.chunks]
        documents.append((doc, chunks))
        discovered += result.entities
    entities = [*lexicon.entities, *discovered, entity("用户"), entity("资料"), entity("车位证明")]
    relations = [Relation("ent:用户", "ent:分布式光伏", "co_occurs", 1.0, documents[0][1][0].id),
                 Relation("ent:车位证明", "ent:充电桩", "co_occurs", 1.0, documents[2][1][0].id)]

    def graph_with(rule):
        return build_graph(documents, entities, [], relations, lexicon, rule)

    kept = graph_with(GenericWords())
    assert kept.has_node("ent:用户") and kept.has_node("ent:资料")  # without the rule they would be hubs
    graph = graph_with(GenericWords(frozenset({"资料"}), max_document_share=0.5, min_documents=3))
    assert not graph.has_node("ent:用户") and not graph.has_node("ent:资料")  # 用户: every document; 资料: listed
    assert graph.has_node("ent:车位证明") and graph.has_node("ent:分布式光伏")
    assert ("ent:充电桩", "co_occurs") in {(n, t) for n, t, _ in graph.neighbours("ent:车位证明")}
    assert all(data.get("type") for _, data in graph.nodes())  # no untyped node made by an edge to a dropped entity


def test_the_built_knowledge_base_has_no_generic_entities(built_kb):
    settings, corpus, _ = built_kb
    kb = KnowledgeBase(settings)
    words = GenericWords.load(settings.config_dir).words
    text = "".join(p.read_text(encoding="utf-8", errors="ignore") for p in corpus.rglob("*.md"))
    assert [w for w in ("用户", "办理", "供电") if w in text]  # they are in the corpus
    assert not [w for w in words if kb.graph.has_node(f"ent:{w}")]


def test_document_counts_match_a_substring_scan():
    import random

    rng = random.Random(5)
    alphabet = "供电用户办理光伏电费峰谷ab1"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(60)]
    names = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))) for _ in range(200)}
    counts = document_counts(names, texts)
    assert {n: counts[n] for n in names} == {n: sum(1 for t in texts if n in t) for n in names}
    assert any(counts[n] > 1 for n in names) and any(counts[n] == 0 for n in names)
