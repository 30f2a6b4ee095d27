"""The answer path's stages on a small knowledge base of tariff FAQs: candidates and their features,
the reranker, the confidence model, and a clarifying question for a vague question."""

import dataclasses
import math

import pytest

from gridkb.application.candidates import FEATURES, _rotated, feature_matrix
from gridkb.application.compose import without_verdict
from gridkb.application.decide import DECISION_FEATURES, ConfidenceModel, clarification_options
from gridkb.application.qa import QuestionAnswerer
from gridkb.application.rerank import Reranker
from gridkb.config import Settings
from gridkb.errors import ConfigError
from gridkb.kb import KnowledgeBase
from gridkb.records import Audience
from tests.conftest import ROOT

FAQ = """问题,答案,类别,相似问法
居民阶梯电价怎么算？,阶梯电价按月用电量分三档：第一档 0–200 千瓦时 0.59 元/千瓦时，第二档每千瓦时加价 0.05 元，第三档加价 0.30 元。,billing,阶梯电费怎么收
居民峰谷电价怎么算？,峰、平、谷电价比为 1.7 : 1 : 0.38，高峰时段 10:00–12:00、14:00–19:00，低谷时段 0:00–8:00。,billing,峰谷电怎么收费
电费可以在哪里交？,可通过南网在线 APP、微信公众号、支付宝生活缴费、银行代扣、营业厅柜台缴纳电费。,payment,交电费有哪些方式|怎么交电费
多交的电费怎么处理？,多缴的电费自动转为预存，可抵扣以后的电费。,payment,电费交多了怎么办
能用支付宝交电费吗？,可以。支付宝生活缴费可以缴纳电费，到账一般实时。,payment,支付宝怎么交电费
"""
GUIDE = """---
title: 缴费须知
audience: public
---
# 缴费须知

## 缴费时间
电费发行日为每月 5 日，缴费截止日为每月 20 日，请按时缴纳。
"""


def _model(threshold: float, floor: float = -100.0) -> ConfidenceModel:
    """A confidence model that says 0.5 to everything: the decision then rests on ``threshold``."""
    n = len(DECISION_FEATURES)
    return ConfidenceModel((0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, 1.0, 0.0, threshold, floor)


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    from gridkb.ingest import ingest

    base = tmp_path_factory.mktemp("tariff_kb")
    corpus = base / "corpus" / "public"
    corpus.mkdir(parents=True)
    (corpus / "电费FAQ.csv").write_text(FAQ, encoding="utf-8")
    (corpus / "缴费须知.md").write_text(GUIDE, encoding="utf-8")
    settings = Settings(kb_dir=base / "kb", config_dir=ROOT / "kb", classifier_training=ROOT / "tests" / "fixtures" / "eval" / "mini_qa.jsonl")
    ingest([base / "corpus"], settings)
    return KnowledgeBase(settings)


def test_every_faq_wording_is_a_candidate_with_its_own_features(kb):
    answerer = QuestionAnswerer(kb, confidence=_model(0.0))
    trace = answerer.trace("交电费有哪些方式", audience=Audience.PUBLIC)
    wordings = {c.wording for c in trace.candidates if c.is_faq}
    assert {"电费可以在哪里交？", "交电费有哪些方式", "怎么交电费"} <= wordings
    exact = next(c for c in trace.candidates if c.wording == "交电费有哪些方式")
    assert exact.feature("wording_overlap") == 1.0 and exact.feature("subject_precision") == 1.0
    assert exact.feature("kind_primary_match") == 1.0 and exact.feature("kind_evidence") == 1.0  # asks for channels, lists them
    overpaid = next(c for c in trace.candidates if c.wording == "多交的电费怎么处理？")
    assert overpaid.feature("subject_precision") < 1.0  # about more than paying: the money paid too much
    passage = next(c for c in trace.candidates if not c.is_faq)
    assert math.isnan(passage.feature("wording_dense")) and "20 日" in passage.answer  # a passage has no wording
    assert feature_matrix(trace.candidates).shape == (len(trace.candidates), len(FEATURES))
    # a question typed as a curated wording is answered by that FAQ
    assert trace.ranked[0].candidate.question == "电费可以在哪里交？" and trace.answer.resolved


def test_the_same_words_with_the_topic_moved_are_the_curated_wording(kb):
    """电费怎么交 is 怎么交电费 (a wording of 电费可以在哪里交？) with its topic put first: that FAQ, not
    支付宝怎么交电费, which shares more of the retrievers' words."""
    answerer = QuestionAnswerer(kb, confidence=_model(0.0))
    trace = answerer.trace("电费怎么交？", audience=Audience.PUBLIC)
    moved = next(c for c in trace.candidates if c.wording == "怎么交电费")
    assert moved.feature("wording_overlap") == 1.0
    assert next(c for c in trace.candidates if c.wording == "支付宝怎么交电费").feature("wording_overlap") < 1.0
    assert trace.ranked[0].candidate.question == "电费可以在哪里交？"
    assert _rotated("怎么交电费", "电费怎么交") and not _rotated("可以不交吗", "不可以交吗")  # a moved 不 is another question


def test_a_passage_answers_with_the_units_that_hold_what_was_asked(kb):
    trace = QuestionAnswerer(kb, confidence=_model(0.0)).trace("电费几号之前要交完", audience=Audience.PUBLIC)
    passage = next(c for c in trace.candidates if not c.is_faq)
    assert "20 日" in passage.answer and passage.feature("kind_evidence") == 1.0


def test_units_holding_what_was_asked_for_whom_it_was_asked_outrank_repeated_words(kb):
    answerer = QuestionAnswerer(kb, confidence=_model(0.0))
    trace = answerer.trace("企业峰谷电价怎么算", audience=Audience.PUBLIC)
    assert trace.analysis is not None and trace.signals is not None
    score = answerer.finder.unit_scorer(trace.analysis, trace.signals)
    # repeats 峰谷 and 电价 but holds no price, against one that holds the ratio asked for
    assert score("峰、平、谷电价比为 1.7 : 1 : 0.38。") > score("选择峰谷分时电价后，一天划分为三个时段，分别执行不同电价。")
    # the same words for the customer type asked and for another
    assert score("工商业用户峰谷电价比为 1.7 : 1 : 0.38。") > score("峰谷电价比为 1.7 : 1 : 0.38。") > score("居民用户峰谷电价比为 1.7 : 1 : 0.38。")
    # the signs of a definition (是…的) are in most sentences: holding one weighs less than a word
    meaning = answerer.trace("峰谷电价是什么意思", audience=Audience.PUBLIC)
    assert meaning.analysis is not None and meaning.signals is not None
    define = answerer.finder.unit_scorer(meaning.analysis, meaning.signals)
    assert define("峰谷电按时段计价。") > define("峰谷是按时段计算的。")  # two words of the question against one and 是…的


def test_a_passage_s_section_heading_says_whom_its_units_are_about(kb):
    from gridkb.application.candidates import _QuestionContext

    answerer = QuestionAnswerer(kb, confidence=_model(0.0))
    trace = answerer.trace("企业峰谷电价怎么算", audience=Audience.PUBLIC)
    assert trace.analysis is not None and trace.signals is not None
    context = _QuestionContext.of(trace.analysis, answerer.analyser, kb, trace.signals)
    units = "一天划分为三个时段，分别执行不同电价。"
    assert context.passage_features(units)["customer_agreement"] == 0.0  # names nobody
    assert context.passage_features(units, "四、居民峰谷分时电价")["customer_agreement"] == -1.0
    assert context.passage_features(units, "工商业峰谷分时电价")["customer_agreement"] == 1.0
    # what the units themselves say comes first
    assert context.passage_features("工商业用户同样执行。", "四、居民峰谷分时电价")["customer_agreement"] == 1.0


def test_a_compound_the_knowledge_base_never_uses_is_matched_by_its_parts(kb):
    from gridkb.application.candidates import _QuestionContext

    answerer = QuestionAnswerer(kb, confidence=_model(0.0))

    def context(question: str) -> _QuestionContext:
        trace = answerer.trace(question, audience=Audience.PUBLIC)
        assert trace.analysis is not None and trace.signals is not None
        return _QuestionContext.of(trace.analysis, answerer.analyser, kb, trace.signals)

    perks = context("电费优惠政策有哪些")
    assert "优惠政策" in perks.unused and "电费" not in perks.unused
    # 有什么优惠 holds half of 优惠政策 (the longest part the text holds), 怎么交 none of it
    assert perks._recall("电费优惠政策") == 1.0 > perks._recall("电费有什么优惠") > perks._recall("电费怎么交") > 0.0
    # a word the knowledge base uses is its own subject: 电价 is not half of 阶梯电价
    tiers = context("阶梯电价怎么算")
    assert "阶梯电价" not in tiers.unused and tiers._coverage("峰谷电价怎么算", "阶梯电价") == 0.0


def test_a_vague_question_gets_options_and_choosing_one_answers_it(kb):
    unsure = QuestionAnswerer(kb, confidence=_model(0.99))
    answer = unsure.answer("电费怎么算", audience=Audience.PUBLIC)
    assert not answer.resolved and answer.reason == "clarify" and not answer.sources
    assert {"居民阶梯电价怎么算？", "居民峰谷电价怎么算？"} <= set(answer.options) and len(answer.options) <= 3
    sure = QuestionAnswerer(kb, confidence=_model(0.4))
    chosen = sure.answer("居民峰谷电价怎么算？", audience=Audience.PUBLIC)
    assert chosen.resolved and "1.7 : 1 : 0.38" in chosen.answer and chosen.sources


def test_a_yes_no_answer_given_to_another_kind_of_question_loses_its_verdict(kb):
    answerer = QuestionAnswerer(kb, confidence=_model(0.0))
    how = answerer.answer("支付宝怎么交电费", audience=Audience.PUBLIC)  # asks how, through the FAQ's other wording
    assert how.resolved and how.answer.startswith("支付宝生活缴费"), how.answer
    whether = answerer.answer("能用支付宝交电费吗", audience=Audience.PUBLIC)
    assert whether.answer.startswith("可以。"), whether.answer


def test_the_evidence_about_an_answer_ignores_another_question_s_answer_after_it(kb):
    """峰谷电一度多少钱 asks for money; the 峰谷 answer gives ratios only. The 阶梯 answer's 0.59 元,
    shown after it under its own question, is no evidence that the answer given holds a price."""
    answerer = QuestionAnswerer(kb, confidence=_model(0.0))
    trace = answerer.trace("峰谷电一度多少钱", audience=Audience.PUBLIC)
    peak = next(r for r in trace.ranked if r.candidate.question == "居民峰谷电价怎么算？")
    tiers = next(r for r in trace.ranked if r.candidate.question == "居民阶梯电价怎么算？")
    trace.ranked = [dataclasses.replace(peak, score=1.0), dataclasses.replace(tiers, score=0.5)]
    answerer.assess(trace)
    assert "如果您想问的是「居民阶梯电价怎么算」" in trace.composed.text and "0.59 元" in trace.composed.text
    assert trace.composed.own.startswith("峰、平、谷电价比") and "0.59" not in trace.composed.own
    assert trace.features["figure_missing"] == 1.0


def test_without_verdict_drops_only_an_opening_yes_or_no():
    assert without_verdict("不是。阶梯电价按月用电量分三档") == "阶梯电价按月用电量分三档"
    assert without_verdict("可以，携带身份证到营业厅办理") == "携带身份证到营业厅办理"
    assert without_verdict("可以申请校验电表") == "可以申请校验电表"  # a sentence, not a verdict
    assert without_verdict("是。") == "是。"  # nothing would be left


def test_below_the_option_floor_the_bot_declines(kb):
    answer = QuestionAnswerer(kb, confidence=_model(0.99, floor=1e9)).answer("电费怎么算", audience=Audience.PUBLIC)
    assert not answer.resolved and not answer.options and answer.reason == "not_in_knowledge_base"


def test_clarification_needs_two_distinct_questions(kb):
    trace = QuestionAnswerer(kb, confidence=_model(0.0)).trace("电费怎么算", audience=Audience.PUBLIC)
    options = clarification_options(trace.ranked, floor=-100.0)
    assert len({o.candidate.question for o in options}) == len(options) >= 2
    assert clarification_options(trace.ranked[:1], floor=-100.0) == []


def test_staff_get_answers_customers_would_be_declined(kb):
    """Staff have their own, lower threshold: the same unsure answer is given to them, not to a customer."""
    model = dataclasses.replace(_model(0.9), internal_threshold=0.1)  # every answer is 0.5 sure
    answerer = QuestionAnswerer(kb, confidence=model)
    customer = answerer.answer("电费几号之前要交完", audience=Audience.PUBLIC)
    staff = answerer.answer("电费几号之前要交完", audience=Audience.INTERNAL)
    assert not customer.resolved and staff.resolved and "20 日" in staff.answer
    assert model.threshold_for(Audience.PUBLIC) == 0.9 and model.threshold_for(Audience.INTERNAL) == 0.1
    never_stricter = dataclasses.replace(model, internal_threshold=0.95)
    assert never_stricter.threshold_for(Audience.INTERNAL) == 0.9
    assert _model(0.7).threshold_for(Audience.INTERNAL) == 0.7  # no staff threshold: as for customers


def test_confidence_model_round_trip_and_stale_file(tmp_path):
    model = _model(0.6, floor=1.5)
    path = tmp_path / "answer_confidence.yaml"
    model.save(path, "test\nsecond line")
    assert ConfidenceModel.load(path) == model
    staff = dataclasses.replace(model, internal_threshold=0.3)
    staff.save(path, "with a staff threshold")
    assert ConfidenceModel.load(path) == staff
    assert model.probability(dict.fromkeys(DECISION_FEATURES, 3.0)) == pytest.approx(0.5)
    path.write_text("features: [top_score]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="refit"):
        ConfidenceModel.load(path)
    with pytest.raises(ConfigError, match="fit it"):
        ConfidenceModel.load(tmp_path / "absent.yaml")


def test_the_fitted_reranker_reads_the_current_features(tmp_path):
    Reranker.load(ROOT / "kb" / "reranker.txt")  # the committed model matches FEATURES
    broken = tmp_path / "reranker.txt"
    broken.write_text("not a model", encoding="utf-8")
    with pytest.raises(ConfigError, match="reranker"):
        Reranker.load(broken)
