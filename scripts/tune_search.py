"""Tune the fusion of hybrid search on the dev split only: each retriever's ranking is computed once
per question, then weighted RRF settings are scored by MRR@10 and Recall@5 (the test split is never
used here).

    .venv/bin/python scripts/tune_search.py --kb kb/build
"""

from __future__ import annotations

import argparse
import itertools
from datetime import date
from pathlib import Path

from gridkb.application.search import Retriever, Searcher, boost_category, fuse
from gridkb.config import Settings
from gridkb.evaluation.datasets import GoldIndex, load_domain, passage_matches
from gridkb.evaluation.metrics import judge_ranking, retrieval_metrics
from gridkb.kb import KnowledgeBase
from gridkb.organisation.linking import expansion_terms
from gridkb.production.normalize import normalize_query
from gridkb.records import Audience


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=Path, default=Path("kb/build"))
    args = parser.parse_args()
    kb = KnowledgeBase(Settings(kb_dir=args.kb))
    searcher = Searcher(kb)
    gold = GoldIndex(Path("."))
    questions = load_domain(Path("eval/datasets/domain_qa.jsonl"), "dev")
    prepared = []
    for q in questions:
        clean = normalize_query(q.question)
        tokens = kb.lexicon.tokenize(clean)
        expansion = [t for term in expansion_terms(clean, kb.lexicon) for t in kb.lexicon.tokenize(term) if t not in tokens]
        category = kb.classify_question(clean)
        prepared.append((q, tokens, category, searcher.rankings(clean, tokens, expansion, Audience.INTERNAL, None, date.today())))
    grid = itertools.product([1.0], [1.5], [1.0], [1.0], [5], [0.0, 0.1, 0.2, 0.3, 0.5, 1.0])
    results = []
    for bm25, dense, faq_bm25, faq_dense, k, boost in grid:
        weights = {Retriever.BM25: bm25, Retriever.DENSE: dense, Retriever.FAQ_BM25: faq_bm25, Retriever.FAQ_DENSE: faq_dense}
        judgements = []
        for q, tokens, category, rankings in prepared:
            fused = fuse(rankings, weights, k)
            fused = boost_category(fused, kb, category, boost)
            hits = searcher._collapse(rankings, fused, 10, tokens)
            units = [gold.resolve(ref) for ref in q.gold]
            judgements.append(judge_ranking(q.id, hits, len(units), lambda h, g: units[g].doc in (h.chunk.source, *h.also_in) and passage_matches(h.chunk.text, units[g])))
        m = retrieval_metrics(judgements)
        results.append((m["MRR@10"], m["Recall@5"], m["nDCG@10"], bm25, dense, faq_bm25, faq_dense, k, boost))
    for row in sorted(results, reverse=True)[:10]:
        print("MRR@10 %.3f R@5 %.3f nDCG %.3f | bm25 %.1f dense %.1f faq_bm25 %.1f faq_dense %.1f k %d category boost %.1f" % row)


if __name__ == "__main__":
    main()
