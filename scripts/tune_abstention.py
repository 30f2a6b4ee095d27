"""Fit and inspect the answerability model (``kb/answerability.yaml``) that decides when the bot abstains.

Only dev data is used: the dev split of the domain questions (answerable) and the dev split of the
unanswerable questions. The threshold is the one with the best 5-fold cross-validated abstention
recall at most ``--max-false`` false abstention; the test splits stay untouched for ``gridkb eval``.

    .venv/bin/python scripts/tune_abstention.py --kb kb/build          # print the current model's curve
    .venv/bin/python scripts/tune_abstention.py --kb kb/build --fit    # refit and write kb/answerability.yaml
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gridkb.application.answerability import AnswerabilityModel
from gridkb.application.qa import QuestionAnswerer
from gridkb.config import Settings
from gridkb.evaluation.datasets import load_domain, load_unanswerable
from gridkb.kb import KnowledgeBase

DATASETS = Path("eval/datasets")


def collect(answerer: QuestionAnswerer, questions: list[str]) -> tuple[list[list[float] | None], list[str]]:
    """Each question's evidence vector, or None when a guard or the domain gate refuses it first."""
    vectors: list[list[float] | None] = []
    for question in questions:
        answer = answerer.answer(question)
        if not answer.resolved:
            vectors.append(None)
            continue
        signals = answerer.searcher.retrieve(answerer.contextualise(question, ()), k=6)
        vectors.append(answerer.evidence(signals).vector())
    return vectors, questions


def curve(probability: np.ndarray, labels: np.ndarray, refused_answerable: int, refused_unanswerable: int, n_answerable: int, n_unanswerable: int):
    for step in range(201):
        threshold = step / 200
        false = (refused_answerable + np.sum((probability < threshold) & (labels == 1))) / n_answerable
        recall = (refused_unanswerable + np.sum((probability < threshold) & (labels == 0))) / n_unanswerable
        yield float(threshold), float(recall), float(false)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=Path, default=Path("kb/build"))
    parser.add_argument("--fit", action="store_true", help="refit and write kb/answerability.yaml")
    parser.add_argument("--max-false", type=float, default=0.04, help="largest false-abstention rate allowed on dev")
    args = parser.parse_args()
    kb = KnowledgeBase(Settings(kb_dir=args.kb))
    answerer = QuestionAnswerer(kb, abstain_below=0.0)
    answerable, _ = collect(answerer, [q.question for q in load_domain(DATASETS / "domain_qa.jsonl", "dev")])
    unanswerable_questions = load_unanswerable(DATASETS / "unanswerable.jsonl", "dev")
    unanswerable, _ = collect(answerer, [u.question for u in unanswerable_questions])
    rows = [(v, 1) for v in answerable if v is not None] + [(v, 0) for v in unanswerable if v is not None]
    features = np.array([v for v, _ in rows])
    labels = np.array([y for _, y in rows])
    refused = (sum(v is None for v in answerable), sum(v is None for v in unanswerable))
    sizes = (len(answerable), len(unanswerable))
    print(f"dev: {sizes[0]} answerable ({refused[0]} refused before retrieval), {sizes[1]} unanswerable ({refused[1]} refused before retrieval)")

    if args.fit:
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        probability = cross_val_predict(pipeline, features, labels, cv=folds, method="predict_proba")[:, 1]
        allowed = [(t, r, f) for t, r, f in curve(probability, labels, *refused, *sizes) if f <= args.max_false]
        threshold, recall, false = max(allowed, key=lambda x: (x[1], -x[2]))
        print(f"cross-validated: threshold {threshold:.3f}, abstention recall {recall:.3f}, false abstention {false:.3f}")
        pipeline.fit(features, labels)
        scaler, regression = pipeline[0], pipeline[1]
        model = AnswerabilityModel(
            tuple(scaler.mean_), tuple(scaler.scale_), tuple(regression.coef_[0]), float(regression.intercept_[0]), threshold
        )
        note = f"fitted by scripts/tune_abstention.py on the dev splits (cross-validated recall {recall:.3f}, false abstention {false:.3f})"
        model.save(kb.settings.config_dir / "answerability.yaml", note)
        print("wrote", kb.settings.config_dir / "answerability.yaml")
    else:
        model = answerer.model
    from gridkb.application.answerability import Evidence

    probability = np.array([model.probability(Evidence(*v)) for v in features])
    for threshold, recall, false in curve(probability, labels, *refused, *sizes):
        if round(threshold * 200) % 10 == 0 and 0.05 <= threshold <= 0.6:
            print(f"threshold {threshold:.2f}: abstention recall {recall:.3f}, false abstention {false:.3f}")
    answered = [(round(float(p), 2), q.question) for p, (v, q) in zip(probability[labels == 0], [(v, u) for v, u in zip(unanswerable, unanswerable_questions) if v is not None]) if p >= model.threshold]
    print("unanswerable answered at the model's threshold:", answered)


if __name__ == "__main__":
    main()
