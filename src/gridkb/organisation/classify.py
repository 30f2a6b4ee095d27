"""Category classifier for documents, chunks and customer questions.

Two signals, combined in logit space: a logistic regression on the embedding (what generalises:
paraphrases, typos, colloquial wording), trained on the labelled FAQ questions, their answers,
the taxonomy's example questions and the dev split of the domain questions; and the curated
keywords of ``kb/taxonomy.yaml`` (what an operator can fix at once by editing a file). Below a
confidence threshold the answer is "unknown" rather than a guess.

The model is saved as plain arrays (npz), never pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gridkb.organisation.taxonomy import UNKNOWN, Taxonomy
from gridkb.production.normalize import compact, normalize_line
from gridkb.records import Classification
from gridkb.storage.blas import one_blas_thread

KEYWORD_WEIGHT = 0.5  # logit added per keyword hit (at most 3 hits count)
KNN_WEIGHT = 0.5  # share of the nearest labelled examples' vote in the final distribution
KNN_K = 10
REGULARISATION_C = 64.0  # these three tuned by scripts/tune_classifier.py (5-fold CV on the dev split)
THRESHOLD = 0.25


@dataclass
class TrainingExample:
    vector: np.ndarray
    label: str
    text: str


class CategoryClassifier:
    def __init__(
        self,
        taxonomy: Taxonomy,
        classes: Sequence[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        examples: np.ndarray,
        example_labels: np.ndarray,
        threshold: float = THRESHOLD,
    ) -> None:
        self.taxonomy = taxonomy
        self.classes = list(classes)
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.examples = np.asarray(examples, dtype=np.float32)
        self.example_labels = np.asarray(example_labels, dtype=np.int32)  # index into classes
        self.threshold = threshold
        self._keywords = [
            [compact(normalize_line(k)) for k in (taxonomy.get(code).keywords if taxonomy.get(code) else ())]  # type: ignore[union-attr]
            for code in self.classes
        ]

    @classmethod
    def train(cls, taxonomy: Taxonomy, examples: Sequence[TrainingExample], c: float = REGULARISATION_C) -> "CategoryClassifier":
        """Fit on labelled vectors; labels outside the taxonomy are ignored."""
        known = set(taxonomy.codes)
        usable = [e for e in examples if e.label in known]
        labels = sorted({e.label for e in usable})
        if len(labels) < 2:
            raise ValueError("the classifier needs labelled examples of at least two categories")
        x = np.stack([e.vector for e in usable])
        y = np.array([e.label for e in usable])
        from sklearn.linear_model import LogisticRegression  # a build-time cost only: answering loads the fitted weights

        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        model.fit(x, y)
        classes = list(model.classes_)
        return cls(taxonomy, classes, model.coef_, model.intercept_, x, np.array([classes.index(v) for v in y]))

    def keyword_hits(self, text: str) -> np.ndarray:
        clean = compact(normalize_line(text))
        return np.array([min(3, sum(1 for k in kws if k and k in clean)) for kws in self._keywords], dtype=np.float32)

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities (rows follow ``texts``; columns follow ``self.classes``)."""
        vectors = np.atleast_2d(vectors)
        if len(vectors) == 1:  # one question while serving: keep the query encoder's cores free
            with one_blas_thread():
                return self._probabilities(vectors, texts)
        return self._probabilities(vectors, texts)

    def _probabilities(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        logits = vectors @ self.coef.T + self.intercept
        if len(self.classes) == 2:  # sklearn's binary form has one column
            logits = np.column_stack([-logits[:, 0], logits[:, 0]])
        logits = logits + KEYWORD_WEIGHT * np.stack([self.keyword_hits(t) for t in texts])
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        model = exp / exp.sum(axis=1, keepdims=True)
        return (1 - KNN_WEIGHT) * model + KNN_WEIGHT * self._neighbour_votes(vectors)

    def _neighbour_votes(self, vectors: np.ndarray) -> np.ndarray:
        """Similarity-weighted votes of the nearest labelled examples (paraphrases of a known question)."""
        votes = np.zeros((len(vectors), len(self.classes)), dtype=np.float32)
        if not len(self.examples):
            return votes
        sims = vectors @ self.examples.T
        k = min(KNN_K, sims.shape[1])
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        for row, indices in enumerate(top):
            for i in indices:
                votes[row, self.example_labels[i]] += max(float(sims[row, i]), 0.0)
        totals = votes.sum(axis=1, keepdims=True)
        return np.divide(votes, totals, out=np.full_like(votes, 1 / len(self.classes)), where=totals > 0)

    def decide(self, probabilities: np.ndarray) -> Classification:
        best = int(np.argmax(probabilities))
        confidence = float(probabilities[best])
        if confidence < self.threshold:
            return Classification(UNKNOWN, "", round(confidence, 4))
        code = self.classes[best]
        return Classification(code, self.taxonomy.department(code), round(confidence, 4))

    def classify(self, vector: np.ndarray, text: str) -> Classification:
        return self.decide(self.probabilities(vector, [text])[0])

    def classify_many(self, vectors: np.ndarray, texts: Sequence[str]) -> list[Classification]:
        if not texts:
            return []
        return [self.decide(row) for row in self.probabilities(vectors, texts)]

    def save(self, path: Path) -> None:
        np.savez(
            path,
            classes=np.array(self.classes),
            coef=self.coef,
            intercept=self.intercept,
            examples=self.examples,
            example_labels=self.example_labels,
            threshold=np.array(self.threshold),
        )

    @classmethod
    def load(cls, path: Path, taxonomy: Taxonomy) -> "CategoryClassifier":
        with np.load(path, allow_pickle=False) as data:
            return cls(
                taxonomy,
                [str(c) for c in data["classes"]],
                data["coef"],
                data["intercept"],
                data["examples"],
                data["example_labels"],
                float(data["threshold"]),
            )
