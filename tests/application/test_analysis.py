"""Question analysis: the kind of information asked, the subject, customer types, names, and what a text holds."""

import pytest

from gridkb.application.analysis import AnalysisRules, InfoKind, QuestionAnalyser
from gridkb.errors import ConfigError
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def analyser(lexicon):
    return QuestionAnalyser.load(ROOT / "kb", lexicon)


@pytest.mark.parametrize(
    "question, kind",
    [
        ("电费怎么交", InfoKind.CHANNEL),
        ("电费什么时候交", InfoKind.DATE),  # a date, although 交 also asks how
        ("峰谷电价怎么算", InfoKind.PRICE),
        ("充电桩收费标准", InfoKind.PRICE),
        ("新装电表要带什么", InfoKind.MATERIALS),
        ("居民新装要多久", InfoKind.DURATION),
        ("电表坏了谁负责", InfoKind.RESPONSIBILITY),
        ("电表走得快怎么办", InfoKind.PROCEDURE),
        ("代理购电是什么意思", InfoKind.DEFINITION),
        ("可以自己拆电表吗", InfoKind.YES_NO),
        ("一户多人口", InfoKind.OTHER),
        ("申请退费要准备啥", InfoKind.MATERIALS),  # spoken question words read as written: 啥 = 什么
        ("停电了咋恢复", InfoKind.PROCEDURE),  # 咋 = 怎么
        ("电费估多了咋整", InfoKind.PROCEDURE),  # as typed, too
    ],
)
def test_kind_of_information_asked(analyser, question, kind):
    assert analyser.analyse(question).kind is kind


def test_the_same_subject_and_action_however_it_is_worded(analyser):
    asked = analyser.analyse("电费怎么交")
    for wording in ("交电费有哪些方式", "电费可以通过哪些渠道缴纳？"):
        other = analyser.analyse(wording)
        assert other.subject == asked.subject == ("电费",), wording
        assert other.actions == asked.actions == ("缴费",), wording
        assert other.kind is InfoKind.CHANNEL
    # paying too much is another subject than paying
    assert analyser.analyse("多交的电费怎么处理？").subject != asked.subject


def test_customer_types_names_and_canonical_words(analyser):
    assert analyser.analyse("商铺新装要多久").customers == ("非居民",)
    assert analyser.analyse("那企业呢？").customers == ("非居民",)
    assert analyser.analyse("家里电表跳闸怎么恢复").customers == ("居民",)
    assert analyser.analyse("上海峰谷电价时间段").names == ("上海",)
    assert "电能表" in analyser.analyse("电表走得快怎么办").subject  # an alias is compared as its entity
    # a fused action splits only where the rest is a domain word: 充电桩 stays whole
    assert analyser.analyse("充电桩用电按居民价还是商业价").subject[0] == "充电桩"


@pytest.mark.parametrize(
    "question, alone",
    [("燃气费怎么交", True), ("电表走得快怎么办", True), ("那企业呢？", False), ("超过了怎么算", False), ("要带什么", False), ("那要多久", False)],
)
def test_a_question_that_names_nothing_of_its_own_is_a_follow_up(analyser, question, alone):
    assert analyser.analyse(question).self_contained is alone


@pytest.mark.parametrize(
    "text, kind, holds",
    [
        ("第一档电价 0.59 元/千瓦时。", InfoKind.PRICE, True),
        ("峰、平、谷电价比为 1.7 : 1 : 0.38。", InfoKind.PRICE, True),
        ("居民峰谷分时电价为自愿选择。", InfoKind.PRICE, False),  # names a price without giving one
        ("校验费由申请人承担，误差超出的不收费。", InfoKind.PRICE, True),
        ("受理后 5 个工作日内出具结果。", InfoKind.DURATION, True),
        ("抢修人员会尽快到达现场。", InfoKind.DURATION, False),
        ("电费发行日为每月 5 日。", InfoKind.DATE, True),
        ("可通过南网在线 APP、微信公众号缴纳。", InfoKind.CHANNEL, True),
        ("需提供身份证件和房屋产权证明。", InfoKind.MATERIALS, True),
    ],
)
def test_what_kind_of_information_a_text_holds(analyser, text, kind, holds):
    assert (kind in analyser.evidence(text)) is holds
    assert analyser.holds(text, kind) is holds  # one pattern, the same answer
    assert all(analyser.holds(text, other) is (other in analyser.evidence(text)) for other in InfoKind)


def test_the_surfaces_candidates_look_for(analyser):
    actions = analyser.rules.actions
    for action in set(actions.values()):
        assert set(analyser.action_surfaces(action)) == {s for s, a in actions.items() if a == action and len(s) >= 2}
    assert "缴纳" in analyser.action_surfaces(actions["缴纳"])
    assert analyser.action_surfaces("no such action") == ()
    word = analyser.canonical("电表")
    assert analyser.lower_surfaces(word) == tuple(s.lower() for s in analyser.surfaces(word)) and len(analyser.lower_surfaces(word)) > 1
    assert analyser.lower_surfaces("APP下载") == ("app下载",)  # a word without aliases: itself, lower-cased


def test_rules_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "question_analysis.yaml"
    bad.write_text("kinds:\n  price: ['(']\nevidence: {}\nactions: {}\ncustomers: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="question_analysis.yaml"):
        AnalysisRules.load(bad)
    bad.write_text("kinds:\n  colour: [红]\nevidence: {}\nactions: {}\ncustomers: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="question-analysis rules"):
        AnalysisRules.load(bad)
    bad.write_text("kinds: {}\nevidence: {}\nactions: {}\ncustomers: {}\nfigures:\n  money: {asked: [多少钱]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="figures.money needs both"):
        AnalysisRules.load(bad)
    with pytest.raises(ConfigError, match="missing"):
        AnalysisRules.load(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    "question, answer, missing",
    [
        ("临时接电费大概多少钱", "临时用电需预交临时接电费，按期拆除后退还。", True),
        ("临时接电费大概多少钱", "按每千伏安 30 元预交。", False),
        ("抄表多久一次", "抄表周期为每月一次。", False),  # a number word with its unit is a figure
        ("校验要收钱吗", "误差超出允许范围的免费校验。", False),  # asks no figure
        ("电费由哪几部分组成", "电度电费和基本电费。", False),  # 哪几 asks which, not how many
        ("新装要几天", "资料齐全的当天办结。", False),
        ("工商业电价一度多少钱", "尖峰电价在高峰电价基础上上浮 25%。", True),  # a percentage is no amount of money
        ("违约金一天收多少", "每日按欠费总额的千分之一计算。", False),  # a rate of the amount owed is
        ("装电表要交多少钱", "电能表由供电企业免费提供和安装。", False),
    ],
)
def test_an_answer_that_gives_no_figure_to_a_question_asking_for_one(analyser, question, answer, missing):
    assert analyser.figure_missing(analyser.analyse(question).text, answer) is missing
