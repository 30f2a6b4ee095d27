"""Conversation context only when it belongs: follow-ups are rewritten, new questions stand alone."""

import pytest

from gridkb.application.analysis import QuestionAnalyser
from gridkb.application.context import FollowUpRewriter
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def rewriter(lexicon):
    return FollowUpRewriter(QuestionAnalyser.load(ROOT / "kb", lexicon), lexicon, lambda text: text)


def test_a_new_self_contained_question_is_answered_on_its_own(rewriter):
    tariffs = ["峰谷电价怎么算", "峰谷电价几点到几点"]
    for question in ("燃气费怎么交", "电表走得快怎么办", "充电桩怎么报装"):
        assert rewriter.rewrite(question, tariffs) == question
        assert not rewriter.is_follow_up(question)


def test_a_contrasting_term_replaces_its_counterpart(rewriter):
    rewritten = rewriter.rewrite("那企业呢？", ["新装居民用电要多久？"])
    assert rewritten == "新装企业用电要多久？"
    assert rewriter.rewrite("那农村呢", ["城区抢修多久能到"]) == "农村抢修多久能到"


def test_a_customer_type_or_narrowing_word_qualifies_the_earlier_question_whole(rewriter):
    # no counterpart to replace: the earlier question keeps its ask (it lost it as "峰谷电价企业呢")
    assert rewriter.rewrite("那企业呢？", ["峰谷电价怎么算"]) == "企业峰谷电价怎么算"
    assert rewriter.rewrite("那农村呢", ["电费怎么交"]) == "农村电费怎么交"


def test_a_new_subject_takes_the_earlier_question_s_ask(rewriter):
    assert rewriter.rewrite("那充电桩呢？", ["峰谷电价怎么算"]) == "充电桩怎么算"


def test_an_ask_without_a_subject_borrows_the_last_named_one(rewriter):
    rewritten = rewriter.rewrite("那要多久？", ["低压居民新装要带什么资料"])
    assert "业扩报装" in rewritten and rewritten.endswith("要多久？")
    assert rewriter.rewrite("超过了怎么算", ["阶梯电价第一档到多少度", "夏天呢"]).startswith("阶梯电价")


def test_without_history_nothing_changes(rewriter):
    assert rewriter.rewrite("那企业呢？", []) == "那企业呢？"


def test_a_thing_named_with_ne_replaces_the_earlier_one_and_a_place_qualifies_it(rewriter):
    assert rewriter.rewrite("专票呢", ["电子发票在哪下"]) == "专票在哪下"
    assert rewriter.rewrite("临时检修呢", ["计划停电会提前通知吗"]) == "临时检修会提前通知吗"
    assert rewriter.rewrite("河南的呢", ["工厂电费怎么算"]) == "河南工厂电费怎么算"  # and so is declined as another province's


class _Scope:
    """A knowledge base about power supply that uses the words 线路 and 多收, not 宠物."""

    def in_domain(self, text):
        return "电" in text

    def names_power_supply(self, text):
        return "电" in text

    def about_another_service(self, text):
        return "电" not in text and ("天气" in text or "燃气" in text)

    def known_word(self, word):
        return word in {"线路", "多收", "物业"}


def test_a_question_that_says_nothing_of_power_supply_by_itself_borrows_the_conversation_s_subject(lexicon):
    scoped = FollowUpRewriter(QuestionAnalyser.load(ROOT / "kb", lexicon), lexicon, lambda text: text, _Scope())
    outage = ["看过了开关没跳，邻居家有电"]
    assert scoped.is_follow_up("要是我家里线路坏了你们管修吗")  # 线路 of what? of the home that lost power
    assert scoped.rewrite("要是我家里线路坏了你们管修吗", outage).startswith("看过了开关没跳")
    # another service, a proper name, or words the knowledge base never uses: a new topic
    for question in ("今天天气怎么样", "燃气费怎么交", "特斯拉的桩多少钱一个", "宠物怎么养"):
        assert not scoped.is_follow_up(question), question
        assert scoped.rewrite(question, ["电费怎么交"]) == question
    assert scoped.is_follow_up("我们小区没有物业呢")  # a substitute stays a follow-up


def test_a_word_the_tokenizer_only_guessed_names_no_subject_of_its_own(lexicon):
    scoped = FollowUpRewriter(QuestionAnalyser.load(ROOT / "kb", lexicon), lexicon, lambda text: text, _Scope())
    # jieba guesses 能装 (not in its dictionary): the question asks how long, about nothing named
    assert scoped.is_follow_up("多久能装好")
    assert "充电桩" in scoped.rewrite("多久能装好", ["我想装个充电桩", "需要什么材料"])
    # a guessed word of a question that names power supply (谷电), or a dictionary word, stands alone
    for question in ("谷电几点开始", "宠物怎么养"):
        assert not scoped.is_follow_up(question), question
