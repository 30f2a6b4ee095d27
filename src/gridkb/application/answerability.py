"""What one retrieval says about whether the knowledge base knows the answer at all: closeness of
the nearest passage and FAQ question, lexical support, and how familiar the question's words are.
These are inputs of the confidence model (``decide.py``), next to the evidence about the answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """What one retrieval says about a question."""

    dense: float  # best cosine of the question with a passage
    faq_dense: float  # best cosine with a curated FAQ question
    bm25_share: float  # best BM25 score over the most the question's words could score (their IDF sum)
    known_share: float  # share of the question's content words the knowledge base has seen at all
    unfamiliar_nouns: float  # nouns of the question the knowledge base never uses (0, 1, 2 = two or more)


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
