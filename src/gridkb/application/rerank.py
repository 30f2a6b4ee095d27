"""Reranking for answering, the third stage: a learned model orders the candidates by how likely
each answers the question, and an FAQ counts through its best wording.

The model is a LightGBM lambdarank ensemble over the candidate features (``candidates.FEATURES``),
fitted on the dev splits only by ``scripts/fit_answering.py`` and kept in the repository as a text
file (``kb/reranker.txt``). No weight is set by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import lightgbm
import numpy as np

from gridkb.application.candidates import FEATURES, Candidate, feature_matrix
from gridkb.errors import ConfigError

RERANKER_FILE = "reranker.txt"
EXACT_WORDING = 0.999  # character-bigram overlap of a question with an FAQ wording that counts as the same words


@dataclass(frozen=True)
class RankedCandidate:
    candidate: Candidate
    score: float  # the reranker's score (higher is better; a ranking score, not a probability)


class Reranker:
    """Scores candidates with the fitted ranking model."""

    def __init__(self, booster: lightgbm.Booster) -> None:
        names = tuple(booster.feature_name())
        if names != FEATURES:
            raise ConfigError(f"the reranker was fitted on features {list(names)}, not {list(FEATURES)}: refit with scripts/fit_answering.py")
        self.booster = booster

    @classmethod
    def load(cls, path: Path) -> "Reranker":
        """The model saved by ``scripts/fit_answering.py``; raises ConfigError when it cannot be read."""
        try:
            return cls(lightgbm.Booster(model_str=path.read_text(encoding="utf-8")))
        except (OSError, lightgbm.basic.LightGBMError) as error:
            raise ConfigError(f"{path}: cannot read the reranker ({error}); fit it with scripts/fit_answering.py") from error

    def scores(self, candidates: Sequence[Candidate]) -> np.ndarray:
        if not candidates:
            return np.zeros(0)
        return np.asarray(self.booster.predict(feature_matrix(candidates), num_threads=1), dtype=np.float64)

    def run(self, candidates: Sequence[Candidate]) -> list[RankedCandidate]:
        """Candidates best first, one per chunk (an FAQ keeps its best-scoring wording). A question
        typed exactly as one of an FAQ's curated wordings is that FAQ: the operator said so."""
        best: dict[str, RankedCandidate] = {}
        for candidate, score in zip(candidates, self.scores(candidates), strict=True):
            key = candidate.hit.chunk.id
            if key not in best or score > best[key].score:
                best[key] = RankedCandidate(candidate, float(score))
        ranked = sorted(best.values(), key=lambda r: -r.score)
        exact = [r for r in ranked if r.candidate.feature("wording_overlap") >= EXACT_WORDING]
        return exact + [r for r in ranked if r not in exact] if exact else ranked
