"""Metric code on small fixtures with answers worked out by hand."""

import pytest

from gridkb.evaluation.datasets import GoldSection, key_phrases_found, passage_matches
from gridkb.evaluation.metrics import abstention_metrics, judge_ranking, percentiles, retrieval_metrics


def test_first_hit_rank_gives_recall_and_mrr():
    # q1: hit at rank 1; q2: hit at rank 3; q3: no hit in the top 10
    j1 = judge_ranking("q1", ["g", "x"], 1, lambda p, g: p == "g")
    j2 = judge_ranking("q2", ["x", "y", "g"], 1, lambda p, g: p == "g")
    j3 = judge_ranking("q3", ["x"] * 10, 1, lambda p, g: p == "g")
    m = retrieval_metrics([j1, j2, j3])
    assert m["Recall@1"] == pytest.approx(1 / 3)
    assert m["Recall@5"] == pytest.approx(2 / 3)
    assert m["MRR@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_duplicates_earn_nothing_and_ndcg_uses_every_gold_unit():
    # two gold units; the first passage matches unit 0 twice over: only the first is credited
    j = judge_ranking("q", ["a", "a", "b"], 2, lambda p, g: (p, g) in {("a", 0), ("b", 1)})
    assert j.credited == [0, None, 1]
    m = retrieval_metrics([j])
    ideal = 1 + 1 / 1.5849625  # log2(3)
    assert m["nDCG@10"] == pytest.approx((1 + 1 / 2) / ideal, rel=1e-6)  # gains at ranks 1 and 3
    assert m["Recall@1"] == 1.0


def test_no_questions_is_all_zero():
    assert retrieval_metrics([])["MRR@10"] == 0.0


def test_key_phrases_need_every_group_ignoring_spaces_and_width():
    groups = [["5个工作日", "五个工作日"], ["营业厅"]]
    assert key_phrases_found("可到营业厅办理，5 个工作日内完成", groups)
    assert key_phrases_found("營業廳辦理，五个工作日", groups)  # traditional is normalised too
    assert not key_phrases_found("5个工作日内完成", groups)


def test_passage_matching_is_by_content_overlap():
    gold = GoldSection("d", "一、时限", "低压居民用户从受理到装表接电不超过5个工作日低压非居民用户不超过15个工作日")
    assert passage_matches("低压居民用户从受理到装表接电不超过 5 个工作日；", gold)
    assert passage_matches("前言。" + gold.text + "另外还有很多别的内容在这里，但是大部分都在金标准里。", gold)
    assert not passage_matches("故障抢修到达现场时限：城区范围 45 分钟", gold)


def test_abstention_and_percentiles():
    m = abstention_metrics([True, True, False, True], [False, True, False, False])
    assert m["abstention_recall"] == 0.75 and m["abstention_precision"] == 0.75 and m["false_abstention"] == 0.25
    p = percentiles([1.0] * 95 + [100.0] * 5)
    assert p["p50_ms"] == 1.0 and 1.0 < p["p95_ms"] <= 100.0
