"""Deciding, the fourth stage: answer, ask one clarifying question, or decline.

The confidence is the probability that the answer about to be given is right: a logistic regression
over the evidence of the whole answer path (the reranker's score and margin, how well the best
candidate covers the question's subject and asks for the same kind of information, whether the
answer holds that kind, how familiar the question's words are), then Platt scaling fitted on
held-out predictions so that of the answers given with confidence 0.8, about eight in ten are right.
``resolved`` follows from one threshold on it (``kb/answer_confidence.yaml``), chosen on the dev
splits for at most 5 % confidently wrong answers to customers. Staff (the internal audience) get
their own, lower threshold: they see the sources and the confidence beside every answer, so a
declined answer costs them more than an unsure one; it is the lowest at which the bot still declines
the unanswerable dev questions as often as set when fitting (never higher than the customers').
Both are fitted by ``scripts/fit_answering.py``.

Below the threshold, a vague question whose best candidates answer different questions about all
of its subject (电费怎么算: 阶梯? 峰谷? 账单?) gets those questions as options instead of a guess;
anything else is declined with the offer of a human.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from gridkb.application.analysis import InfoKind, QuestionAnalyser, QuestionAnalysis
from gridkb.application.answerability import Evidence
from gridkb.application.candidates import MISSING
from gridkb.application.rerank import RankedCandidate
from gridkb.errors import ConfigError
from gridkb.production.lexicon import SAFE_LOADER
from gridkb.records import Audience

CONFIDENCE_FILE = "answer_confidence.yaml"
CLARIFY_REASON = "clarify"  # the reason of an answer that asks which question was meant
MAX_OPTIONS = 3
DECISION_FEATURES = (
    "top_score",
    "margin",
    "is_faq",
    "dense",
    "wording_dense",
    "bm25_share",
    "subject_recall",
    "subject_recall_text",
    "subject_precision",
    "kind_primary_match",
    "kind_evidence",
    "answer_kind_evidence",
    "customer_agreement",
    "unknown_subject_share",
    "unknown_names",
    "known_share",
    "unfamiliar_nouns",
    "question_subject_words",
    "figure_missing",
)
# the decision features that are the best candidate's own (the rest describe the ranking or the answer)
_CANDIDATE_FEATURES = (
    "is_faq", "dense", "wording_dense", "bm25_share", "subject_recall", "subject_recall_text", "subject_precision",
    "kind_primary_match", "kind_evidence", "customer_agreement", "unknown_subject_share", "unknown_names", "question_subject_words",
)
# a feature that does not apply to the best candidate (a passage has no wording) takes the value of
# its nearest equivalent, or a neutral value
_SUBSTITUTE = {"wording_dense": "dense", "subject_recall": "subject_recall_text"}
_NEUTRAL = {"subject_precision": 1.0, "kind_primary_match": 0.5, "kind_evidence": 0.5}


def decision_features(
    ranked: Sequence[RankedCandidate], question: QuestionAnalysis, answer: str, analyser: QuestionAnalyser, evidence: Evidence
) -> dict[str, float]:
    """The evidence about the answer built from ``ranked[0]``, as the confidence model's inputs."""
    top = ranked[0]
    candidate = top.candidate
    second = next((r.score for r in ranked[1:] if r.candidate.answer != candidate.answer), top.score - 3.0)
    values = {
        "top_score": top.score,
        "margin": top.score - second,
        "answer_kind_evidence": 0.5 if question.kind is InfoKind.OTHER else float(question.kind in analyser.evidence(answer)),
        "known_share": evidence.known_share,
        "unfamiliar_nouns": evidence.unfamiliar_nouns,
        "figure_missing": float(analyser.figure_missing(question.text, answer)),
    }
    for name in _CANDIDATE_FEATURES:
        value = candidate.feature(name)
        if math.isnan(value) and name in _SUBSTITUTE:
            value = candidate.feature(_SUBSTITUTE[name])
        values[name] = _NEUTRAL.get(name, 0.0) if math.isnan(value) else value
    return values


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression on standardised decision features, then Platt scaling of its score."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    calibration_slope: float  # calibrated probability = sigmoid(slope × score + offset), fitted on held-out scores
    calibration_offset: float
    threshold: float  # resolved when the calibrated probability reaches this (customers)
    clarify_floor: float  # a reranker score below which a candidate is no option to offer
    internal_threshold: float | None = None  # the same for staff; None: as for customers

    def threshold_for(self, audience: Audience) -> float:
        """The confidence an answer needs to be given as resolved to this audience."""
        if audience is Audience.INTERNAL and self.internal_threshold is not None:
            return min(self.internal_threshold, self.threshold)
        return self.threshold

    def score(self, values: dict[str, float]) -> float:
        """The regression's score (log-odds before calibration)."""
        return self.intercept + sum(c * (values[n] - m) / s for n, c, m, s in zip(DECISION_FEATURES, self.coef, self.mean, self.scale, strict=True))

    def probability(self, values: dict[str, float]) -> float:
        """The calibrated probability that the answer is right."""
        return _sigmoid(self.calibration_slope * self.score(values) + self.calibration_offset)

    @classmethod
    def load(cls, path: Path) -> "ConfidenceModel":
        """Read ``kb/answer_confidence.yaml``; raises ConfigError when it is missing or stale."""
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
            if tuple(data["features"]) != DECISION_FEATURES:
                raise ConfigError(f"{path}: features {data['features']} are not {list(DECISION_FEATURES)}; refit with scripts/fit_answering.py")
            return cls(
                *(tuple(map(float, data[key])) for key in ("mean", "scale", "coef")),
                float(data["intercept"]),
                float(data["calibration"]["slope"]),
                float(data["calibration"]["offset"]),
                float(data["threshold"]),
                float(data["clarify_floor"]),
                None if data.get("internal_threshold") is None else float(data["internal_threshold"]),
            )
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"{path}: cannot read the confidence model ({error}); fit it with scripts/fit_answering.py") from error

    def save(self, path: Path, note: str) -> None:
        data = {
            "features": list(DECISION_FEATURES),
            "mean": [round(x, 6) for x in self.mean],
            "scale": [round(x, 6) for x in self.scale],
            "coef": [round(x, 6) for x in self.coef],
            "intercept": round(self.intercept, 6),
            "calibration": {"slope": round(self.calibration_slope, 6), "offset": round(self.calibration_offset, 6)},
            "threshold": round(self.threshold, 4),
            "clarify_floor": round(self.clarify_floor, 4),
        }
        if self.internal_threshold is not None:
            data["internal_threshold"] = round(self.internal_threshold, 4)
        path.write_text("".join(f"# {line}\n" for line in note.splitlines()) + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def clarification_options(ranked: Sequence[RankedCandidate], floor: float) -> list[RankedCandidate]:
    """The curated questions a question the bot is unsure of could mean: the best-ranked FAQs that
    score at least ``floor`` and ask different things. Fewer than two means no choice to offer."""
    options: list[RankedCandidate] = []
    for item in ranked:
        candidate = item.candidate
        if item.score < floor or not candidate.is_faq:
            continue
        if any(candidate.question == o.candidate.question or candidate.answer == o.candidate.answer for o in options):
            continue
        options.append(item)
        if len(options) == MAX_OPTIONS:
            break
    return options if len(options) >= 2 else []
