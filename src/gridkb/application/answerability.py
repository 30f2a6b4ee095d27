"""Does the knowledge base hold the answer? A small logistic regression over the evidence of one
retrieval turns closeness, lexical support and vocabulary coverage into a probability, the
confidence the bot reports; below the threshold it abstains instead of guessing.

The coefficients live in ``kb/answerability.yaml``, fitted by ``scripts/tune_abstention.py --fit``
on the dev split and the dev unanswerable questions only. They depend on the embedding model's
cosine range: refit them after changing the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from gridkb.errors import ConfigError

FEATURES = ("dense", "faq_dense", "bm25_share", "known_share", "unfamiliar_nouns")


@dataclass(frozen=True)
class Evidence:
    """What one retrieval says about a question, as the model's features."""

    dense: float  # best cosine of the question with a passage
    faq_dense: float  # best cosine with a curated FAQ question
    bm25_share: float  # best BM25 score over the most the question's words could score (their IDF sum)
    known_share: float  # share of the question's content words the knowledge base has seen at all
    unfamiliar_nouns: float  # nouns of the question the knowledge base never uses (0, 1, 2 = two or more)

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]


def evidence(
    best_dense: float,
    best_faq_dense: float,
    best_bm25: float,
    tokens: list[str],
    nouns: list[str],
    document_frequency: Mapping[str, int],
    size: int,
) -> Evidence:
    """``tokens``: the question's search tokens; ``nouns``: its nouns; ``size``: chunks in the index.
    A knowledge base without FAQ questions (best_faq_dense 0) counts its best passage instead."""
    content = [t for t in dict.fromkeys(tokens) if len(t) >= 2]
    idf_sum = sum(math.log(1 + size / (1 + document_frequency.get(t, 0))) for t in content)
    known = sum(1 for t in content if t in document_frequency) / len(content) if content else 0.5
    unfamiliar = min(2, sum(1 for n in dict.fromkeys(nouns) if n not in document_frequency))
    return Evidence(best_dense, best_faq_dense or best_dense, best_bm25 / idf_sum if idf_sum else 0.0, known, float(unfamiliar))


@dataclass(frozen=True)
class AnswerabilityModel:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # abstain when the probability of an answer is below this

    def probability(self, features: Evidence) -> float:
        z = self.intercept + sum(c * (x - m) / s for c, x, m, s in zip(self.coef, features.vector(), self.mean, self.scale, strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def load(cls, path: Path) -> "AnswerabilityModel":
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if tuple(data["features"]) != FEATURES:
                raise ConfigError(f"{path}: features {data['features']} are not {list(FEATURES)}; refit with scripts/tune_abstention.py --fit")
            return cls(
                tuple(map(float, data["mean"])),
                tuple(map(float, data["scale"])),
                tuple(map(float, data["coef"])),
                float(data["intercept"]),
                float(data["threshold"]),
            )
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"{path}: cannot read the answerability model ({error})") from error

    def save(self, path: Path, note: str) -> None:
        data = {
            "features": list(FEATURES),
            "mean": [round(float(x), 6) for x in self.mean],
            "scale": [round(float(x), 6) for x in self.scale],
            "coef": [round(float(x), 6) for x in self.coef],
            "intercept": round(float(self.intercept), 6),
            "threshold": round(float(self.threshold), 4),
        }
        path.write_text(f"# {note}\n" + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
