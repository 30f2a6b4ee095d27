"""Retrieval metrics through ir-measures (trec_eval's implementations), plus answer and latency figures.

Relevance is judged per question against its gold units (sections, or paragraphs for external data):
a retrieved passage is credited to the first gold unit it matches that no earlier passage matched,
so returning the same answer five times earns nothing extra. ``Recall@k`` is the share of questions
with at least one gold unit in the top k (ir-measures ``Success@k``); MRR@10 is ``RR@10``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ir_measures
import numpy as np
from ir_measures import RR, Success, nDCG

MEASURES = {"Recall@1": Success @ 1, "Recall@5": Success @ 5, "Recall@10": Success @ 10, "MRR@10": RR @ 10, "nDCG@10": nDCG @ 10}


@dataclass
class RetrievalJudgement:
    """One question's judged ranking: for each rank, the gold unit it was credited to (or None)."""

    qid: str
    gold_units: int
    credited: list[int | None] = field(default_factory=list)


def judge_ranking(qid: str, passages: Sequence[object], gold_count: int, matches: Callable[[object, int], bool]) -> RetrievalJudgement:
    """Credit each passage to the first unmatched gold unit it matches."""
    judgement = RetrievalJudgement(qid, gold_count)
    taken: set[int] = set()
    for passage in passages:
        unit = next((g for g in range(gold_count) if g not in taken and matches(passage, g)), None)
        if unit is not None:
            taken.add(unit)
        judgement.credited.append(unit)
    return judgement


def _qrels_and_run(judgements: Sequence[RetrievalJudgement]) -> tuple[list, list]:
    qrels, run = [], []
    for j in judgements:
        qrels.extend(ir_measures.Qrel(j.qid, f"gold{g}", 1) for g in range(j.gold_units))
        for rank, unit in enumerate(j.credited):
            doc = f"gold{unit}" if unit is not None else f"miss{rank}"
            run.append(ir_measures.ScoredDoc(j.qid, doc, float(len(j.credited) - rank)))
    return qrels, run


def retrieval_metrics(judgements: Sequence[RetrievalJudgement]) -> dict[str, float]:
    """Aggregate Recall@1/5/10, MRR@10 and nDCG@10 over all questions (a question with no hit scores 0)."""
    if not judgements:
        return {name: 0.0 for name in MEASURES}
    qrels, run = _qrels_and_run(judgements)
    per_query = per_question_metrics(judgements, qrels, run)
    return {name: float(np.mean([per_query[j.qid][name] for j in judgements])) for name in MEASURES}


def per_question_metrics(judgements: Sequence[RetrievalJudgement], qrels: list | None = None, run: list | None = None) -> dict[str, dict[str, float]]:
    if qrels is None or run is None:
        qrels, run = _qrels_and_run(judgements)
    by_measure = {measure: name for name, measure in MEASURES.items()}
    scores: dict[str, dict[str, float]] = {j.qid: {name: 0.0 for name in MEASURES} for j in judgements}
    for metric in ir_measures.iter_calc(list(MEASURES.values()), qrels, run):
        scores[metric.query_id][by_measure[metric.measure]] = float(metric.value)
    return scores


def percentiles(milliseconds: Sequence[float]) -> dict[str, float]:
    if not milliseconds:
        return {"p50_ms": 0.0, "p95_ms": 0.0}
    values = np.asarray(milliseconds)
    return {"p50_ms": float(np.percentile(values, 50)), "p95_ms": float(np.percentile(values, 95))}


def abstention_metrics(abstained_unanswerable: Sequence[bool], abstained_answerable: Sequence[bool]) -> dict[str, float]:
    """Precision and recall of abstaining, and the false-abstention rate on answerable questions."""
    true_pos = sum(abstained_unanswerable)
    false_pos = sum(abstained_answerable)
    recall = true_pos / len(abstained_unanswerable) if abstained_unanswerable else 0.0
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 0.0
    false_rate = false_pos / len(abstained_answerable) if abstained_answerable else 0.0
    return {"abstention_precision": precision, "abstention_recall": recall, "false_abstention": false_rate}
