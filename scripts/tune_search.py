"""Tune the fusion of hybrid search on dev splits only: each retriever's ranking is computed once per
question, then fusion settings are scored by MRR@10 and Recall@5. The test splits are never used.

Two dev sets pull in different directions: the domain questions are colloquial (the dense retrievers
carry them), the DRCD dev questions copy the words of their passage (BM25 carries them). The lexical
boost lets one setting serve both: the BM25 weight grows with how much of the question the best BM25
passage covers (``bm25_share``), so it only counts more when the words really match.

    .venv/bin/python scripts/tune_search.py --kb kb/build [--external kb/build-eval/drcd-dev]

(``gridkb eval --dataset drcd --split dev --no-baseline`` builds the DRCD dev knowledge base first.)
"""

from __future__ import annotations

import argparse
import itertools
from datetime import date
from pathlib import Path

from gridkb.application import search as search_module
from gridkb.application.search import Retriever, Searcher, boost_category, fuse, lexical_boost
from gridkb.config import Settings
from gridkb.evaluation import datasets as ds
from gridkb.evaluation.metrics import judge_ranking, retrieval_metrics
from gridkb.kb import KnowledgeBase
from gridkb.organisation.linking import expansion_terms
from gridkb.production.documents import source_name
from gridkb.records import Audience


def prepare(searcher: Searcher, question: str):  # type: ignore[no-untyped-def]
    kb = searcher.kb
    clean = searcher.prepare(question)
    tokens = kb.lexicon.tokenize(clean)
    expansion = [t for term in expansion_terms(clean, kb.lexicon) for t in kb.lexicon.tokenize(term) if t not in tokens]
    rankings = searcher.rankings(clean, tokens, expansion, Audience.INTERNAL, None, date.today())
    return tokens, kb.classify_question(clean), rankings, searcher.bm25_share(rankings, tokens)


def domain_cases(kb_dir: Path):  # type: ignore[no-untyped-def]
    kb = KnowledgeBase(Settings(kb_dir=kb_dir))
    searcher = Searcher(kb)
    gold = ds.GoldIndex(Path("."))
    cases = []
    for q in ds.load_domain(Path("eval/datasets/domain_qa.jsonl"), "dev"):
        units = [gold.resolve(ref) for ref in q.gold]
        match = lambda h, g, units=units: units[g].doc in (h.chunk.source, *h.also_in) and ds.passage_matches(h.chunk.text, units[g])  # noqa: E731
        cases.append((q.id, len(units), match, *prepare(searcher, q.question)))
    return searcher, cases


def external_cases(workdir: Path, external_dir: Path, limit: int):  # type: ignore[no-untyped-def]
    kb = KnowledgeBase(Settings(kb_dir=workdir / "kb"))
    searcher = Searcher(kb)
    _, questions = ds.load_squad(external_dir / "drcd" / "DRCD_dev.json")
    cases = []
    for q in ds.sample(questions, limit):
        target = source_name(workdir / "corpus" / ds.passage_file_name(q.paragraph_id))
        match = lambda h, _, target=target: target in (h.chunk.source, *h.also_in)  # noqa: E731
        cases.append((q.id, 1, match, *prepare(searcher, q.question)))
    return searcher, cases


def score(searcher: Searcher, cases, weights, k: int, boost: float, alpha: float, floor: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    judgements = []
    for qid, n_gold, match, tokens, category, rankings, share in cases:
        adapted = {**weights, Retriever.BM25: weights[Retriever.BM25] * lexical_boost(share, alpha, floor)}
        fused = boost_category(fuse(rankings, adapted, k), searcher.kb, category, boost)
        hits = searcher._collapse(rankings, fused, 10, tokens)
        judgements.append(judge_ranking(qid, hits, n_gold, match))
    return retrieval_metrics(judgements)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=Path, default=Path("kb/build"))
    parser.add_argument("--external", type=Path, default=Path("kb/build-eval/drcd-dev"))
    parser.add_argument("--external-dir", type=Path, default=Path("../shared/eval-data"))
    parser.add_argument("--limit", type=int, default=500)
    args = parser.parse_args()
    sets = {"domain": domain_cases(args.kb)}
    if args.external.exists():
        sets["drcd"] = external_cases(args.external, args.external_dir, args.limit)
    base = search_module.fusion_weights()
    grid = itertools.product([1.0, 1.5], [5, 10], [0.0, 2.0, 4.0, 8.0], [0.3, 0.4, 0.5], [0.0, 0.5])
    results = []
    for dense, k, alpha, floor, boost in grid:
        weights = {**base, Retriever.DENSE: dense}
        by_set = {name: score(s, cases, weights, k, boost, alpha, floor) for name, (s, cases) in sets.items()}
        mean_mrr = sum(m["MRR@10"] for m in by_set.values()) / len(by_set)
        results.append((mean_mrr, by_set, dense, k, alpha, floor, boost))
    for mean_mrr, by_set, dense, k, alpha, floor, boost in sorted(results, key=lambda r: -r[0])[:12]:
        detail = "  ".join(f"{n}: MRR {m['MRR@10']:.3f} R@5 {m['Recall@5']:.3f}" for n, m in by_set.items())
        print(f"mean MRR {mean_mrr:.3f} | dense {dense} k {k} alpha {alpha} floor {floor} category boost {boost} | {detail}")


if __name__ == "__main__":
    main()
