"""BM25 over jieba tokens, with a parity check against an independent Lucene-BM25 implementation."""

import math

import numpy as np

from gridkb.storage.bm25_index import Bm25Index

DOCS = [
    "低压居民用户从受理到装表接电不超过5个工作日",
    "业扩报装流程：申请受理、现场勘查、供电方案答复",
    "居民峰谷电价为自愿选择，选择后12个月内不能变更",
    "故障抢修到达现场时限：城区范围45分钟",
    "电费违约金：居民用户每日按欠费总额的千分之一计算",
]


def reference_scores(corpus, query, k1=1.2, b=0.75):
    """Lucene BM25 (since Lucene 8, without the constant (k1 + 1) factor) written from the formula."""
    n = len(corpus)
    avgdl = sum(len(d) for d in corpus) / n
    scores = []
    for doc in corpus:
        score = 0.0
        for term in set(query):
            df = sum(1 for d in corpus if term in d)
            if df == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = doc.count(term)
            score += idf * tf / (tf + k1 * (1 - b + b * len(doc) / avgdl))
        scores.append(score)
    return scores


def test_parity_with_reference_implementation(lexicon):
    corpus = [lexicon.tokenize(d) for d in DOCS]
    index = Bm25Index.build(corpus)
    query = lexicon.tokenize("居民装表接电要几个工作日")
    got = dict(index.search(query, k=5))
    expected = reference_scores(corpus, query)
    for row, score in enumerate(expected):
        assert math.isclose(got.get(row, 0.0), score, rel_tol=1e-4, abs_tol=1e-6)
    assert index.search(query, k=1)[0][0] == 0


def test_domain_terms_stay_whole(lexicon):
    tokens = lexicon.tokenize("峰谷电价和业扩报装，户号在哪")
    assert {"峰谷电价", "业扩报装", "户号"} <= set(tokens)


def test_mask_hides_rows_and_unknown_words_find_nothing(lexicon, tmp_path):
    index = Bm25Index.build([lexicon.tokenize(d) for d in DOCS])
    index.save(tmp_path / "bm25")
    loaded = Bm25Index.load(tmp_path / "bm25", len(DOCS))
    mask = np.ones(len(DOCS), dtype=np.float32)
    mask[0] = 0
    rows = [r for r, _ in loaded.search(lexicon.tokenize("装表接电"), k=5, mask=mask)]
    assert 0 not in rows
    assert loaded.search(["完全无关的词"], k=5) == []


def test_empty_index_finds_nothing(tmp_path):
    index = Bm25Index.build([])
    index.save(tmp_path / "empty")
    assert Bm25Index.load(tmp_path / "empty", 0).search(["电费"], k=5) == []


def test_document_frequencies_match_the_corpus(lexicon):
    corpus = [lexicon.tokenize(d) for d in DOCS]
    frequencies = Bm25Index.build(corpus).document_frequencies()
    assert frequencies["居民"] == sum(1 for tokens in corpus if "居民" in tokens) == 3
    assert frequencies["业扩报装"] == 1
