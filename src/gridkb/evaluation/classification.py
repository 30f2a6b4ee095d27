"""Classification quality of the organisation layer on labelled questions (the staff's domain
questions; the customers' phrasings, whose unresolved questions are routed by it): macro-F1,
accuracy, the share of "unknown" answers (counted as wrong) and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sklearn.metrics import confusion_matrix, f1_score

from gridkb.kb import KnowledgeBase


@dataclass
class ClassificationResult:
    macro_f1: float
    accuracy: float
    unknown_rate: float
    labels: list[str]
    matrix: list[list[int]] = field(default_factory=list)  # rows: gold (labels), columns: predicted (labels + unknown)
    misses: list[dict[str, str]] = field(default_factory=list)


def evaluate_classification(kb: KnowledgeBase, questions: Sequence[tuple[str, str, str]]) -> ClassificationResult:
    """``questions``: (id, question, gold category) each."""
    labels = kb.taxonomy.codes
    gold = [category for _, _, category in questions]
    predicted = [kb.classify_question(text).category for _, text, _ in questions]
    columns = labels + ["unknown"]
    matrix = confusion_matrix(gold, predicted, labels=columns)[: len(labels)].tolist()
    misses = [{"id": i, "question": text, "gold": g, "predicted": p} for (i, text, _), g, p in zip(questions, gold, predicted) if g != p]
    return ClassificationResult(
        macro_f1=float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        accuracy=sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0,
        unknown_rate=predicted.count("unknown") / len(predicted) if predicted else 0.0,
        labels=labels,
        matrix=matrix,
        misses=misses[:20],
    )


def confusion_markdown(result: ClassificationResult) -> list[str]:
    short = [label[:6] for label in result.labels] + ["unk"]
    lines = ["| gold \\ predicted | " + " | ".join(short) + " |", "|" + "---|" * (len(short) + 1)]
    for label, row in zip(result.labels, result.matrix):
        lines.append(f"| {label} | " + " | ".join(str(v) if v else "·" for v in row) + " |")
    return lines
