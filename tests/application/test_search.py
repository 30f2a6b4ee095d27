"""Hybrid search on the session knowledge base: fusion, expansion, filters, duplicates, snippets."""

from datetime import date

import pytest

from gridkb.application.search import Retriever, Searcher, fuse, highlight
from gridkb.kb import KnowledgeBase
from gridkb.records import Audience


@pytest.fixture(scope="module")
def searcher(built_kb):
    settings, _, _ = built_kb
    return Searcher(KnowledgeBase(settings))


def test_weighted_rrf():
    rankings = {Retriever.BM25: [("a", 9.0), ("b", 5.0)], Retriever.DENSE: [("b", 0.9), ("c", 0.8)]}
    scores = fuse(rankings, {Retriever.BM25: 1.0, Retriever.DENSE: 2.0}, k=10)
    assert scores["a"] == pytest.approx(1 / 11)
    assert scores["b"] == pytest.approx(1 / 12 + 2 / 11)
    assert scores["c"] == pytest.approx(2 / 12)
    assert max(scores, key=scores.get) == "b"  # found by both retrievers
    assert fuse(rankings, {Retriever.BM25: 1.0}) .keys() == {"a", "b"}  # a zero-weight retriever adds nothing


def test_highlight_spans_point_at_the_terms():
    snippet, spans = highlight("故障抢修到达现场时限：城区范围 45 分钟。", ["城区", "45"])
    assert [snippet[a:b] for a, b in spans] == ["城区", "45"]


def test_a_long_text_is_cut_around_the_densest_matches():
    text = "城区" + "。" * 300 + "抢修时限：城区范围 45 分钟，农村 90 分钟。" + "。" * 100
    snippet, spans = highlight(text, ["城区", "45", "农村", "分钟"], width=40)
    assert snippet.startswith("。") and "城区范围 45 分钟，农村 90 分钟" in snippet  # not the lone first match
    assert [snippet[a:b] for a, b in spans] == ["城区", "45", "分钟", "农村", "分钟"]


def test_search_finds_the_section_with_title_path_and_snippet(searcher):
    hits = searcher.search("城区抢修多久能到", k=3)
    top = hits[0]
    assert "45 分钟" in top.chunk.text
    assert top.ranks and top.score > 0
    assert any(top.snippet[a:b] == "城区" for a, b in top.highlights)


def test_traditional_and_full_width_queries(searcher):
    assert "45 分钟" in searcher.search("城區搶修多久能到？？？", k=1)[0].chunk.text


def test_synonym_expansion_reaches_the_canonical_term(searcher):
    # "报装" is an alias of 业扩报装 and "几天" is in the synonym group of 多久; the guide says 装表接电
    hits = searcher.search("居民报装几天", k=3)
    assert any("5 个工作日" in h.chunk.text for h in hits)


def test_public_channel_and_category_filter(searcher):
    internal = searcher.search("业务中台由哪几层组成", k=5)
    assert any(h.chunk.audience is Audience.INTERNAL for h in internal)
    public = searcher.search("业务中台由哪几层组成", k=10, audience=Audience.PUBLIC)
    assert all(h.chunk.audience is Audience.PUBLIC for h in public)
    payment = searcher.search("电费", k=10, category="payment")
    assert payment and all(h.chunk.category == "payment" for h in payment)


def test_expired_knowledge_is_never_served(searcher):
    hits = searcher.search("低压居民用户从受理到装表接电不超过几个工作日", k=10)
    assert hits and not any("7 个工作日" in h.chunk.text for h in hits)
    old_day = searcher.search("低压居民用户从受理到装表接电不超过几个工作日", k=10, today=date(2024, 6, 1))
    assert any("7 个工作日" in h.chunk.text for h in old_day)  # on record, served only while it was valid


def test_duplicates_collapse_into_one_hit(searcher):
    hits = searcher.search("城区抢修多久到", k=10)
    matching = [h for h in hits if "城区范围 45 分钟" in h.chunk.text]
    assert len(matching) == 1 and matching[0].also_in  # the FAQ stands for the guide's identical section


def test_pinyin_questions_read_their_lone_syllables(searcher):
    assert searcher.prepare("dianfei zenme jiao") == "电费怎么交"  # jiao read as the analysis rules' action 交
    assert searcher.prepare("tingdian le") == "停电了"


def test_bad_queries(searcher):
    assert searcher.search("", k=5) == [] and searcher.search("   ", k=5) == []
    assert len(searcher.search("电费" * 5000, k=3)) <= 3  # huge query is truncated, not an error
    assert searcher.search("<script>alert(1)</script>", k=3) is not None


def test_exact_in_memory_search_agrees_with_chroma(built_kb, searcher):
    settings, _, _ = built_kb
    assert searcher.kb.exact_vectors is not None and searcher.kb.exact_vectors.count() == len(searcher.kb.chunks)
    through_chroma = Searcher(KnowledgeBase(settings.model_copy(update={"exact_search_max_vectors": 0})))
    assert through_chroma.kb.exact_vectors is None
    for query in ("城区抢修多久能到", "电费怎么交", "分布式光伏并网"):
        for audience in (Audience.PUBLIC, Audience.INTERNAL):
            exact = [h.chunk.id for h in searcher.search(query, k=3, audience=audience)]
            hnsw = [h.chunk.id for h in through_chroma.search(query, k=3, audience=audience)]
            assert exact == hnsw, query


def test_query_vectors_are_shared_between_workers_but_never_hold_personal_data(built_kb):
    from gridkb.storage.embedders import QueryVectorCache

    settings, _, _ = built_kb
    worker = KnowledgeBase(settings)
    cache = QueryVectorCache(worker.layout.embedding_cache)
    before = cache.count()
    vector = worker.query_vector("峰谷电价怎么申请开通")
    worker.query_vector("我的手机号13812345678停电了")
    assert cache.count() == before + 1  # the question with a phone number was embedded, not kept
    other = KnowledgeBase(settings)  # another worker: the vector comes from the shared cache
    other.__dict__["embedder"] = _NoModel(worker.embedder.name)  # any call to the model fails
    assert other.query_vector("峰谷电价怎么申请开通") == pytest.approx(vector)


class _NoModel:
    def __init__(self, name: str) -> None:
        self.name = name

    def embed_query(self, text: str):
        raise AssertionError(f"embedded {text!r} again")


def test_a_registered_retriever_takes_part_in_every_search(searcher, monkeypatch):
    """A new retriever is one class and one ``register`` call: fusion weighs it and hits show its rank."""
    from gridkb.application import retrievers

    target = [c for c in searcher.kb.chunks if c.audience is Audience.PUBLIC and not c.canonical_id][-1]

    class Pinned:  # ranks one chunk first, whatever the question
        name = "pinned"

        def rank(self, query):
            assert query.tokens and query.mask.shape == (len(searcher.kb.chunks),)
            return [(target.id, 1.0)]

    monkeypatch.setattr(retrievers, "_REGISTERED", dict(retrievers._REGISTERED))
    without = searcher.search("光伏并网需要哪些资料", k=10, audience=Audience.PUBLIC)
    retrievers.register(Pinned(), weight=5.0)
    hits = searcher.search("光伏并网需要哪些资料", k=10, audience=Audience.PUBLIC)
    assert target.id not in [h.chunk.id for h in without[:1]]
    assert hits[0].chunk.id == target.id and hits[0].ranks["pinned"] == 1
    assert set(searcher.rankings("光伏", ["光伏"], [], Audience.PUBLIC, None, date.today())) == {"bm25", "dense", "faq_bm25", "faq_dense", "pinned"}
