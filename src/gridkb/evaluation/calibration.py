"""Is a confidence a probability? Reliability tables and the expected calibration error.

A confidence of 0.8 should be right about eight times in ten. The reliability table groups answers
by confidence into equal-width bins and compares each bin's mean confidence with its share of right
answers; the expected calibration error (ECE) is the gap averaged over bins, weighted by their size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float  # share of right answers in the bin

    @property
    def gap(self) -> float:
        return abs(self.mean_confidence - self.accuracy)


def reliability_table(confidences: Sequence[float], outcomes: Sequence[bool], bins: int = 10) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1] (the last one closed), empty bins left out."""
    if len(confidences) != len(outcomes):
        raise ValueError(f"{len(confidences)} confidences for {len(outcomes)} outcomes")
    if bins < 1:
        raise ValueError("at least one bin")
    grouped: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for confidence, outcome in zip(confidences, outcomes, strict=True):
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence {confidence} is not a probability")
        grouped[min(bins - 1, int(confidence * bins))].append((confidence, outcome))
    table = []
    for index, members in enumerate(grouped):
        if members:
            mean = sum(c for c, _ in members) / len(members)
            accuracy = sum(1 for _, o in members if o) / len(members)
            table.append(ReliabilityBin(index / bins, (index + 1) / bins, len(members), mean, accuracy))
    return table


def expected_calibration_error(confidences: Sequence[float], outcomes: Sequence[bool], bins: int = 10) -> float:
    """Σ over bins of (bin size / n) × |mean confidence − accuracy|; 0 for a perfectly calibrated model."""
    table = reliability_table(confidences, outcomes, bins)
    total = sum(b.count for b in table)
    return sum(b.count / total * b.gap for b in table) if total else 0.0


def format_reliability(table: Sequence[ReliabilityBin]) -> list[str]:
    """The table as Markdown rows."""
    rows = ["| confidence | answers | mean confidence | right |", "|---|---|---|---|"]
    rows += [f"| {b.low:.1f}–{b.high:.1f} | {b.count} | {b.mean_confidence:.3f} | {b.accuracy:.3f} |" for b in table]
    return rows
