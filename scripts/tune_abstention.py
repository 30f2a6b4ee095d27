"""Look at the QA confidence on the dev split (answerable) and the unanswerable set, to choose the
abstention threshold. Prints the confidence distribution and, per threshold, abstention recall and
false abstention. (The unanswerable set has no held-out split: say so wherever figures are reported.)

    .venv/bin/python scripts/tune_abstention.py --kb kb/build
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from gridkb.application import qa as qa_module
from gridkb.application.qa import QuestionAnswerer
from gridkb.config import Settings
from gridkb.evaluation.datasets import key_phrases_found, load_domain, load_unanswerable
from gridkb.kb import KnowledgeBase


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=Path, default=Path("kb/build"))
    args = parser.parse_args()
    kb = KnowledgeBase(Settings(kb_dir=args.kb))
    qa_module.ABSTAIN_BELOW = 0.0
    answerer = QuestionAnswerer(kb)
    dev = load_domain(Path("eval/datasets/domain_qa.jsonl"), "dev")
    answerable = []
    for q in dev:
        a = answerer.answer(q.question)
        answerable.append((a.confidence if a.resolved else -1.0, key_phrases_found(a.answer, q.key_phrases), q.question))
    unanswerable = []
    for u in load_unanswerable(Path("eval/datasets/unanswerable.jsonl")):
        a = answerer.answer(u.question)
        unanswerable.append((a.confidence if a.resolved else -1.0, u.kind, u.question))
    conf_a = np.array([c for c, _, _ in answerable])
    conf_u = np.array([c for c, _, _ in unanswerable])
    for threshold in np.arange(0.40, 0.70, 0.02):
        correct = sum(1 for c, ok, _ in answerable if c >= threshold and ok) / len(answerable)
        print(f"threshold {threshold:.2f}: abstention recall {np.mean(conf_u < threshold):.3f}, false abstention {np.mean(conf_a < threshold):.3f}, key-phrase accuracy {correct:.3f}")
    print("answered unanswerable at 0.5:", [(round(c, 2), k, q) for c, k, q in unanswerable if c >= 0.5][:30])
    print("dev wrong answers:", [(round(c, 2), q) for c, ok, q in answerable if not ok][:20])


if __name__ == "__main__":
    main()
