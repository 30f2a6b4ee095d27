"""The evaluation harness: runs every system over a dataset and collects quality and latency figures.

It knows systems only through ``EvalSystem`` (retrieve, answer), so gridkb's raw retrievers, its
later hybrid search and QA, and the LangChain baseline are measured by the same code in one run.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gridkb.evaluation.datasets import (
    DomainQuestion,
    ExternalQuestion,
    GoldIndex,
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
from gridkb.evaluation.systems import EvalSystem, Passage
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
