"""The harness end to end on the session knowledge base: real BM25 and dense systems, and the baseline."""

import pytest

from gridkb.evaluation.datasets import GoldIndex, UnanswerableQuestion, load_domain
from gridkb.evaluation.harness import evaluate_domain
from gridkb.evaluation.systems import Bm25System, DenseSystem
from gridkb.kb import KnowledgeBase
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def setup(built_kb):
    settings, corpus, _ = built_kb
    kb = KnowledgeBase(settings)
    questions = load_domain(FIXTURES / "eval" / "mini_qa.jsonl")
    return kb, questions, GoldIndex(corpus)


def test_kb_systems_find_the_gold_sections(setup):
    kb, questions, gold = setup
    for system in (Bm25System(kb), DenseSystem(kb)):
        sources = {p.source for p in system.retrieve("城区抢修多久能到", 3)}
        assert any(s.endswith("停电报修.txt") for s in sources)
    # the harness judges by source path relative to the corpus: rebase sources for this fixture
    result = evaluate_domain(_Rebased(Bm25System(kb), gold.root), questions, gold, [UnanswerableQuestion(id="U", question="   ", split="test", kind="empty")])
    assert result.metrics["Recall@5"] == 1.0
    assert result.metrics["key_phrase_accuracy"] >= 2 / 3
    assert result.metrics["abstention_recall"] == 1.0  # an empty question retrieves nothing
    assert set(result.per_category) == {"outage", "payment", "connection"}
    assert result.latency["retrieve"]["p95_ms"] > 0


def test_public_channel_never_sees_internal_chunks(setup):
    kb, _, _ = setup
    for system in (Bm25System(kb, audience="public"), DenseSystem(kb, audience="public")):
        assert all("中台培训" not in p.source for p in system.retrieve("业务中台由哪几层组成", 10))


def test_langchain_baseline_runs_on_the_same_documents(setup, tmp_path):
    pytest.importorskip("langchain_community", reason="the eval extra is not installed")
    from gridkb.evaluation.baseline import LangChainBaseline, make_embeddings

    kb, _, _ = setup
    docs = [
        ("a.md", "故障抢修到达现场时限：城区范围 45 分钟，农村地区 90 分钟。"),
        ("b.md", "电费可通过南网在线 APP 缴纳。"),
        ("c.md", "分布式光伏并网流程：并网申请、现场勘查、出具接入系统方案。"),
        ("d.md", "投诉受理后 24 小时内联系客户，5 个工作日内答复处理意见。"),
        ("e.md", "家庭应安装额定漏电动作电流不大于 30 毫安的漏电保护器。"),
    ]
    baseline = LangChainBaseline(docs, make_embeddings(kb.embedder.embed_passages, kb.embedder.embed_query), tmp_path / "bl")
    assert baseline.retrieve("城区抢修多久到", 1)[0].source == "a.md"
    assert "南网在线" in baseline.answer("电费在哪交").text


class _Rebased:
    """Presents a system's sources relative to the fixture corpus, as gold references are written."""

    def __init__(self, inner, root):
        self.inner, self.root, self.name = inner, root.name + "/", inner.name  # keys start with the corpus folder's name

    def retrieve(self, question, k):
        from dataclasses import replace

        return [replace(p, source=p.source.removeprefix(self.root)) for p in self.inner.retrieve(question, k)]

    def answer(self, question):
        return self.inner.answer(question)


class _Scripted:
    """A system with fixed replies, so the customer-set metrics can be checked by hand."""

    name = "scripted"

    def __init__(self, replies):
        self.replies = replies

    def retrieve(self, question, k):
        return []

    def answer(self, question):
        from gridkb.evaluation.systems import SystemAnswer

        text, resolved, options = self.replies[question]
        return SystemAnswer(text, resolved, options=tuple(options), confidence=0.9 if resolved else 0.2, draft=text)

    def converse(self, question, history):
        return self.answer(self.rewrite(question, history))

    def rewrite(self, question, history):
        return question if question.startswith("新") or not history else f"{history[-1]}|{question}"


def test_customer_outcomes_right_clarified_declined_and_confidently_wrong():
    from gridkb.evaluation.datasets import RealQuestion
    from gridkb.evaluation.harness import evaluate_real

    questions = [
        RealQuestion(id="1", q="电费怎么交", category="payment", must=[["南网在线"]], unanswerable=False),
        RealQuestion(id="2", q="电费怎么算", category="billing", must=[["0.59"]], unanswerable=False),
        RealQuestion(id="3", q="峰谷怎么算", category="billing", must=[["1.7"]], unanswerable=False),
        RealQuestion(id="4", q="河南电价", category="billing", unanswerable=True),
        RealQuestion(id="5", q="上海电价", category="billing", unanswerable=True),
    ]
    system = _Scripted({
        "电费怎么交": ("可在南网在线 APP 缴纳", True, []),
        "电费怎么算": ("您想问哪个？", False, ["阶梯电价怎么算", "账单怎么看"]),
        "阶梯电价怎么算": ("第一档 0.59 元", True, []),
        "账单怎么看": ("账单列明用电量", True, []),
        "峰谷怎么算": ("自愿选择", True, []),  # resolved, but not what was asked
        "河南电价": ("抱歉", False, []),
        "上海电价": ("0.59 元", True, []),  # an answer the knowledge base cannot know
    })
    result = evaluate_real(system, questions)
    assert result.metrics["right"] == pytest.approx(1 / 3)
    assert result.metrics["right_with_clarification"] == pytest.approx(2 / 3)
    assert result.metrics["honest_abstention"] == pytest.approx(1 / 2)
    assert result.metrics["confidently_wrong"] == pytest.approx(2 / 5)
    assert result.metrics["clarified"] == pytest.approx(1 / 5)
    assert result.reliability and 0 <= result.metrics["expected_calibration_error"] <= 1


def test_dialogues_follow_ups_and_topic_changes():
    from gridkb.evaluation.datasets import Dialogue, DialogueTurn
    from gridkb.evaluation.harness import evaluate_dialogues

    dialogue = Dialogue(id="M", turns=[
        DialogueTurn(user="居民新装要多久", category="connection", key_phrases=[["5 个工作日"]], follow_up=False),
        DialogueTurn(user="那企业呢", category="connection", key_phrases=[["15 个工作日"]], follow_up=True),
        DialogueTurn(user="新问题燃气费", category="payment", unanswerable=True, follow_up=False),
    ])
    system = _Scripted({
        "居民新装要多久": ("5 个工作日", True, []),
        "居民新装要多久|那企业呢": ("15 个工作日", True, []),
        "新问题燃气费": ("抱歉", False, []),
    })
    result = evaluate_dialogues(system, [dialogue])
    assert result.metrics["follow_up_right"] == 1.0 and result.metrics["follow_up_rewritten"] == 1.0
    assert result.metrics["new_question_kept_alone"] == 1.0 and result.metrics["unanswerable_turn_declined"] == 1.0
    assert result.metrics["confidently_wrong_turns"] == 0.0
