"""Reranking for answering, the third stage: a learned model orders the candidates by how likely
each answers the question, and an FAQ counts through its best wording.

The model is a LightGBM lambdarank ensemble over the candidate features (``candidates.FEATURES``),
fitted on the dev splits only by ``scripts/fit_answering.py`` and kept in the repository as a text
file (``kb/reranker.txt``). No weight is set by hand. Answering evaluates that file with numpy
(``TreeEnsemble``) instead of importing lightgbm, whose import pulls scikit-learn and SciPy and cost
a command-line question 0.7 s; a test checks the two agree on every prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gridkb.application.candidates import FEATURES, Candidate, feature_matrix
from gridkb.errors import ConfigError

RERANKER_FILE = "reranker.txt"
EXACT_WORDING = 0.999  # character-bigram overlap of a question with an FAQ wording that counts as the same words


@dataclass(frozen=True)
class RankedCandidate:
    candidate: Candidate
    score: float  # the reranker's score (higher is better; a ranking score, not a probability)


class TreeEnsemble:
    """A LightGBM model saved as text (numerical splits only), evaluated with numpy. Leaves are nodes
    that lead to themselves, so every row steps down every tree at once, as many steps as the deepest
    tree is deep, with no per-row branching."""

    ZERO = 1e-35  # LightGBM's kZeroThreshold: |x| at or below it counts as zero for "zero as missing"

    def __init__(self, model_text: str) -> None:
        header, *blocks = model_text.split("\nTree=")
        self.feature_names = tuple(_field(header, "feature_names").split())
        feature, threshold, left, right, kind, value, roots, depth = [], [], [], [], [], [], [], 0
        for block in blocks:
            block = block.split("\nend of trees")[0]
            if int(_field(block, "num_cat") or 0):
                raise ValueError("categorical splits are not supported")
            leaves = [float(v) for v in _field(block, "leaf_value").split()]
            splits = [int(v) for v in _field(block, "split_feature").split()] if len(leaves) > 1 else []
            base, first_leaf = len(feature), len(feature) + len(splits)
            # a child is a node of this tree (>= 0) or ~leaf; both become indices into the ensemble's nodes
            at = lambda c: base + c if c >= 0 else first_leaf + ~c  # noqa: E731
            feature += splits + [0] * len(leaves)
            threshold += [float(v) for v in _field(block, "threshold").split()][: len(splits)] + [np.inf] * len(leaves)
            kind += [int(v) for v in _field(block, "decision_type").split()][: len(splits)] + [0] * len(leaves)
            left += [at(int(c)) for c in _field(block, "left_child").split()][: len(splits)] + list(range(first_leaf, first_leaf + len(leaves)))
            right += [at(int(c)) for c in _field(block, "right_child").split()][: len(splits)] + list(range(first_leaf, first_leaf + len(leaves)))
            value += [0.0] * len(splits) + leaves
            roots.append(base if splits else first_leaf)
            depth = max(depth, len(splits))  # a bound: a tree is no deeper than its number of splits
        self.feature, self.threshold = np.asarray(feature, dtype=np.int64), np.asarray(threshold, dtype=np.float64)
        self.left, self.right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
        kinds = np.asarray(kind, dtype=np.int64)
        self.default_left, self.missing = (kinds & 2) > 0, (kinds >> 2) & 3  # missing: 0 none, 1 zero, 2 NaN
        self.value, self.roots = np.asarray(value, dtype=np.float64), np.asarray(roots, dtype=np.int64)
        self.depth = self._depth(depth)

    def _depth(self, bound: int) -> int:
        """The deepest tree's depth: steps until every root has reached a leaf, whatever the input."""
        frontier, steps = self.roots, 0
        while steps < bound and (frontier := np.unique(np.concatenate([self.left[frontier], self.right[frontier]]))).size:
            if np.array_equal(self.left[frontier], frontier) and np.array_equal(self.right[frontier], frontier):
                break
            frontier = frontier[(self.left[frontier] != frontier) | (self.right[frontier] != frontier)]
            steps += 1
        return steps + 1

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """The raw score of each row (the sum of its leaf values over the trees), as ``Booster.predict``."""
        x = np.asarray(matrix, dtype=np.float64)
        rows = np.arange(len(x))[:, None]
        at = np.broadcast_to(self.roots, (len(x), len(self.roots)))
        if not np.isnan(x).any() and not (self.missing == 1).any():  # the usual case: no missing values
            for _ in range(self.depth):
                at = np.where(x[rows, self.feature[at]] <= self.threshold[at], self.left[at], self.right[at])
            return self.value[at].sum(axis=1)
        for _ in range(self.depth):
            value = x[rows, self.feature[at]]
            missing = self.missing[at]
            nan = np.isnan(value)
            value = np.where(nan & (missing != 2), 0.0, value)  # NaN is zero unless NaN is the missing value
            is_missing = ((missing == 2) & nan) | ((missing == 1) & (np.abs(value) <= self.ZERO))
            go_left = np.where(is_missing, self.default_left[at], value <= self.threshold[at])
            at = np.where(go_left, self.left[at], self.right[at])
        return self.value[at].sum(axis=1)


def _field(text: str, name: str) -> str:
    """The value of ``name=…`` on its own line of a LightGBM model block ('' when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "="):
            return line[len(name) + 1 :]
    return ""


class Reranker:
    """Scores candidates with the fitted ranking model."""

    def __init__(self, model: TreeEnsemble) -> None:
        names = model.feature_names
        if names != FEATURES:
            raise ConfigError(f"the reranker was fitted on features {list(names)}, not {list(FEATURES)}: refit with scripts/fit_answering.py")
        self.model = model

    @classmethod
    def load(cls, path: Path) -> "Reranker":
        """The model saved by ``scripts/fit_answering.py``; raises ConfigError when it cannot be read."""
        try:
            return cls(TreeEnsemble(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, IndexError) as error:
            raise ConfigError(f"{path}: cannot read the reranker ({error}); fit it with scripts/fit_answering.py") from error

    def scores(self, candidates: Sequence[Candidate]) -> np.ndarray:
        if not candidates:
            return np.zeros(0)
        return self.model.predict(feature_matrix(candidates))

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
