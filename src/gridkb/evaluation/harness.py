"""The evaluation harness: runs every system over a dataset and collects quality and latency figures.

It knows systems only through ``EvalSystem`` (retrieve, answer), so gridkb's raw retrievers, its
later hybrid search and QA, and the LangChain baseline are measured by the same code in one run.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gridkb.evaluation.calibration import expected_calibration_error, reliability_table
from gridkb.evaluation.datasets import (
    Dialogue,
    DomainQuestion,
    ExternalQuestion,
    GoldIndex,
    RealQuestion,
    UnanswerableQuestion,
    key_phrases_found,
    passage_matches,
)
from gridkb.evaluation.metrics import (
    RetrievalJudgement,
    abstention_metrics,
    judge_ranking,
    per_question_metrics,
    percentiles,
    retrieval_metrics,
)
from gridkb.evaluation.systems import ConversationalSystem, EvalSystem, Passage, SystemAnswer
from gridkb.production.normalize import compact, normalize_line

K = 10


@dataclass
class SystemResult:
    """Everything measured for one system on one dataset."""

    system: str
    metrics: dict[str, float] = field(default_factory=dict)
    per_category: dict[str, dict[str, float]] = field(default_factory=dict)
    latency: dict[str, dict[str, float]] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)  # a few misses, for reading
    reliability: list[dict[str, float]] = field(default_factory=list)  # confidence bins: count, mean confidence, share right


def _timed(call: Callable[[], object], sink: list[float]) -> object:
    started = time.perf_counter()
    result = call()
    sink.append((time.perf_counter() - started) * 1000)
    return result


def evaluate_domain(
    system: EvalSystem, questions: Sequence[DomainQuestion], gold: GoldIndex, unanswerable: Sequence[UnanswerableQuestion] = ()
) -> SystemResult:
    """Retrieval, key-phrase accuracy, abstention and latency on the domain questions."""
    result = SystemResult(system.name)
    retrieve_ms: list[float] = []
    answer_ms: list[float] = []
    judgements: list[RetrievalJudgement] = []
    correct: dict[str, bool] = {}
    abstained_answerable: list[bool] = []
    for q in questions:
        units = [gold.resolve(ref) for ref in q.gold]
        passages: list[Passage] = _timed(lambda: system.retrieve(q.question, K), retrieve_ms)  # type: ignore[assignment]
        judgements.append(
            judge_ranking(q.id, passages, len(units), lambda p, g: units[g].doc in p.sources and passage_matches(p.text, units[g]))  # type: ignore[attr-defined]
        )
        answer = _timed(lambda: system.answer(q.question), answer_ms)
        correct[q.id] = answer.resolved and key_phrases_found(answer.text, q.key_phrases)  # type: ignore[attr-defined]
        abstained_answerable.append(not answer.resolved)  # type: ignore[attr-defined]
        if not correct[q.id] and len(result.failures) < 15:
            result.failures.append({"id": q.id, "question": q.question, "answer": answer.text[:120]})  # type: ignore[attr-defined]
    abstained_unanswerable = []
    for u in unanswerable:
        answer = _timed(lambda: system.answer(u.question), answer_ms)
        abstained_unanswerable.append(not answer.resolved)  # type: ignore[attr-defined]
    result.metrics = retrieval_metrics(judgements)
    result.metrics["key_phrase_accuracy"] = sum(correct.values()) / len(correct) if correct else 0.0
    if unanswerable:
        result.metrics.update(abstention_metrics(abstained_unanswerable, abstained_answerable))
    result.latency = {"retrieve": percentiles(retrieve_ms), "answer": percentiles(answer_ms)}
    result.per_category = _per_category(questions, judgements, correct)
    return result


def _per_category(questions: Sequence[DomainQuestion], judgements: Sequence[RetrievalJudgement], correct: dict[str, bool]) -> dict[str, dict[str, float]]:
    scores = per_question_metrics(judgements)
    grouped: dict[str, list[str]] = defaultdict(list)
    for q in questions:
        grouped[q.category].append(q.id)
    return {
        category: {
            "questions": float(len(ids)),
            "Recall@5": sum(scores[i]["Recall@5"] for i in ids) / len(ids),
            "MRR@10": sum(scores[i]["MRR@10"] for i in ids) / len(ids),
            "key_phrase_accuracy": sum(correct[i] for i in ids) / len(ids),
        }
        for category, ids in sorted(grouped.items())
    }


def evaluate_external(system: EvalSystem, questions: Sequence[ExternalQuestion], source_of: Callable[[str], str]) -> SystemResult:
    """Reading-comprehension data: is the question's paragraph retrieved, does the answer hold a gold span."""
    result = SystemResult(system.name)
    retrieve_ms: list[float] = []
    answer_ms: list[float] = []
    judgements = []
    contains = 0
    for q in questions:
        target = source_of(q.paragraph_id)
        passages: list[Passage] = _timed(lambda: system.retrieve(q.question, K), retrieve_ms)  # type: ignore[assignment]
        judgements.append(judge_ranking(q.id, passages, 1, lambda p, _: p.source == target))  # type: ignore[attr-defined]
        answer = _timed(lambda: system.answer(q.question), answer_ms)
        text = compact(normalize_line(answer.text))  # type: ignore[attr-defined]
        contains += any(compact(normalize_line(a)) in text for a in q.answers)
    result.metrics = retrieval_metrics(judgements)
    result.metrics["answer_contains_gold"] = contains / len(questions) if questions else 0.0
    result.latency = {"retrieve": percentiles(retrieve_ms), "answer": percentiles(answer_ms)}
    return result


def _outcome(system: EvalSystem, answer: SystemAnswer, groups: list[list[str]] | None) -> str:
    """right | clarified_right | clarified | wrong (resolved, not right) | declined."""
    if answer.resolved:
        return "right" if groups and key_phrases_found(answer.text, groups) else "wrong"
    if answer.options:
        if groups and any(_right(system.answer(option), groups) for option in answer.options):
            return "clarified_right"  # the customer picks the option that was meant, and it answers
        return "clarified"
    return "declined"


def _right(answer: SystemAnswer, groups: list[list[str]]) -> bool:
    return answer.resolved and key_phrases_found(answer.text, groups)


def evaluate_real(system: EvalSystem, questions: Sequence[RealQuestion]) -> SystemResult:
    """Questions as customers type them, one per fresh conversation: right, right after one
    clarifying question, honest abstentions, and confidently wrong answers (resolved but not
    answering what was asked, or answering what the knowledge base cannot know)."""
    result = SystemResult(system.name)
    answer_ms: list[float] = []
    outcomes: dict[str, str] = {}
    calibration: list[tuple[float, bool]] = []
    for q in questions:
        groups = None if q.unanswerable else q.must
        answer: SystemAnswer = _timed(lambda: system.answer(q.q), answer_ms)  # type: ignore[assignment]
        outcomes[q.id] = _outcome(system, answer, groups)
        if answer.confidence is not None:
            calibration.append((answer.confidence, bool(groups) and key_phrases_found(answer.draft, groups or [])))
        missed = outcomes[q.id] == "wrong" or (groups and outcomes[q.id] in ("declined", "clarified"))
        if missed and len(result.failures) < 20:
            result.failures.append({"id": q.id, "question": q.q, "answer": f"[{outcomes[q.id]}] {answer.text[:100]}"})
    answerable = [q.id for q in questions if not q.unanswerable]
    unanswerable = [q.id for q in questions if q.unanswerable]
    share = lambda ids, kinds: sum(outcomes[i] in kinds for i in ids) / len(ids) if ids else 0.0  # noqa: E731
    everyone = [q.id for q in questions]
    result.metrics = {
        "right": share(answerable, ("right",)),
        "right_with_clarification": share(answerable, ("right", "clarified_right")),
        "honest_abstention": share(unanswerable, ("declined", "clarified")),
        "confidently_wrong": share(everyone, ("wrong",)),
        "clarified": share(everyone, ("clarified", "clarified_right")),
        "false_abstention": share(answerable, ("declined",)),
    }
    if calibration:
        confidences, right = [c for c, _ in calibration], [r for _, r in calibration]
        result.metrics["expected_calibration_error"] = expected_calibration_error(confidences, right)
        result.reliability = [vars(b) for b in reliability_table(confidences, right)]
    result.latency = {"answer": percentiles(answer_ms)}
    return result


def evaluate_dialogues(system: ConversationalSystem, dialogues: Sequence[Dialogue]) -> SystemResult:
    """Conversations turn by turn: follow-ups must be understood with the earlier turns, and a new,
    self-contained question (a topic change) must be answered on its own."""
    result = SystemResult(system.name)
    follow_right, follow_rewritten, new_right, new_alone, declined_right, wrong = [], [], [], [], [], []
    for dialogue in dialogues:
        history: list[str] = []
        for number, turn in enumerate(dialogue.turns):
            rewritten = system.rewrite(turn.user, history)
            answer = system.converse(turn.user, history)
            right = answer.resolved and not turn.unanswerable and key_phrases_found(answer.text, turn.key_phrases)
            follow_up = turn.follow_up if turn.follow_up is not None else number > 0  # unlabelled sets: later turns are follow-ups
            if number:
                wrong.append(answer.resolved and not right)
                if turn.unanswerable:
                    declined_right.append(not answer.resolved)
                elif follow_up:
                    follow_right.append(right)
                    follow_rewritten.append(rewritten != turn.user)
                else:
                    new_right.append(right)
                if not follow_up:
                    new_alone.append(rewritten == turn.user)
                if not right and not turn.unanswerable and len(result.failures) < 15:
                    result.failures.append({"id": dialogue.id, "question": f"{turn.user} (as {rewritten})", "answer": answer.text[:100]})
            history.append(rewritten)
    mean = lambda values: sum(values) / len(values) if values else 0.0  # noqa: E731
    result.metrics = {
        "follow_up_right": mean(follow_right),
        "follow_up_rewritten": mean(follow_rewritten),
        "new_question_right": mean(new_right),
        "new_question_kept_alone": mean(new_alone),
        "unanswerable_turn_declined": mean(declined_right),
        "confidently_wrong_turns": mean(wrong),
    }
    result.per_category = {"turns": {"follow-up": float(len(follow_right)), "new question": float(len(new_alone)), "unanswerable": float(len(declined_right))}}
    return result
