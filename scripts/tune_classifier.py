"""Tune the category classifier on the dev split only (5-fold cross-validation over dev questions;
the FAQ labels and taxonomy examples are always in training). Prints macro-F1 per setting.

    .venv/bin/python scripts/tune_classifier.py --kb kb/build
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from gridkb.config import Settings
from gridkb.kb import KnowledgeBase
from gridkb.organisation import classify
from gridkb.organisation.classify import CategoryClassifier, TrainingExample
from gridkb.organisation.organise import labelled_dev_questions
from gridkb.production.normalize import normalize_query

from fit_answering import classifier_base  # scripts/, beside this one


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=Path, default=Path("kb/build"))
    args = parser.parse_args()
    settings = Settings(kb_dir=args.kb)
    kb = KnowledgeBase(settings)
    base, embedder = classifier_base(kb)
    dev = labelled_dev_questions(settings.classifier_training)
    texts = [normalize_query(question) for question, _ in dev]
    dev_vectors = embedder.embed_queries(texts)
    folds = np.arange(len(dev)) % 5
    labels = kb.taxonomy.codes
    for c, weight, knn in itertools.product([64, 256, 1024], [0.5, 1.0], [0.0, 0.3, 0.5]):
        threshold = classify.THRESHOLD
        classify.KEYWORD_WEIGHT = weight
        classify.KNN_WEIGHT = knn
        predicted = [""] * len(dev)
        for fold in range(5):
            extra = [TrainingExample(dev_vectors[i], dev[i][1], texts[i]) for i in range(len(dev)) if folds[i] != fold]
            model = CategoryClassifier.train(kb.taxonomy, base + extra, c=c)
            model.threshold = threshold
            for i in np.where(folds == fold)[0]:
                predicted[i] = model.classify(dev_vectors[i], texts[i]).category
        gold = [category for _, category in dev]
        f1 = f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)
        print(f"C={c:<5} keyword_weight={weight:<4} knn_weight={knn:<4} macro-F1 {f1:.3f} unknown {predicted.count('unknown')}")


if __name__ == "__main__":
    main()
