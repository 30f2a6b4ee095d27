"""Stage scaling benchmark: seconds per ingest stage at several corpus sizes, and whether each grows linearly.

    .venv/bin/python scripts/bench_stages.py [--sizes 10000,30000,100000] [--workdir /tmp/gridkb-stages]
                                             [--reuse-corpus] [--profile]

Builds a fresh knowledge base from a synthetic corpus (``bench_ingest.write_corpus``) at each size with
the model-free ``hashing`` embedder, so embedding time is left out, and prints per stage its seconds and
microseconds per chunk at each size and the growth of the time per chunk from the smallest size to the
largest. Stages, as ``ingest()`` reports them: parse (load + structure + chunk + extract), organise
(classify, duplicates, conflicts, related items), index (chunk table, BM25, Chroma, FAQ indexes), graph
(build, organisation marks, save), embed (hashing, excluded from the targets) and other (the rest of the
total: discovery of files, writing records, manifest, publishing).

Targets (issue 16, target 1): parse + organise + index + graph ≤ 600 s at 100,000 chunks, and no
non-embedding stage's time per chunk grows by more than 1.5× from the smallest size to the largest.
``--profile`` writes a cProfile file per size into the workdir and prints its costliest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import write_corpus  # noqa: E402

from gridkb.config import EmbeddingBackend, Settings  # noqa: E402
from gridkb.ingest import ingest  # noqa: E402

TARGET_STAGES = ("parse", "organise", "index", "graph")  # the "together ≤ 10 minutes"
LINEAR_STAGES = (*TARGET_STAGES, "other")  # every non-embedding stage must scale linearly
ALL_STAGES = (*LINEAR_STAGES, "embed")
TARGET_SECONDS = 600.0
TARGET_CHUNKS = 100_000
MAX_GROWTH = 1.5


@dataclass(frozen=True)
class SizeRun:
    """One build: its chunk count and seconds per stage."""

    target: int
    chunks: int
    documents: int
    seconds: dict[str, float]

    def per_chunk_us(self, stage: str) -> float:
        return 1e6 * self.seconds[stage] / max(self.chunks, 1)


def corpus_for(workdir: Path, size: int, reuse: bool) -> Path:
    """The synthetic corpus of ``size`` chunks, written afresh unless ``reuse`` and it is already there."""
    folder = workdir / f"corpus-{size}"
    if reuse and folder.is_dir() and any(folder.iterdir()):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    write_corpus(folder, size)
    return folder


def build(workdir: Path, size: int, reuse: bool, profile: bool) -> SizeRun:
    """A fresh knowledge base from the corpus of ``size`` chunks; the corpus is written outside the timing."""
    corpus = corpus_for(workdir, size, reuse)
    kb_dir = workdir / f"kb-{size}"
    shutil.rmtree(kb_dir, ignore_errors=True)
    settings = Settings(kb_dir=kb_dir, embedding_backend=EmbeddingBackend.HASHING)
    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU time: robust to a shared machine
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = ingest([corpus], settings)
    if profiler:
        profiler.disable()
        _print_profile(profiler, workdir / f"ingest-{size}.prof")
    wall = time.perf_counter() - started
    seconds = {stage: float(report.seconds.get(stage, 0.0)) for stage in ("parse", "organise", "index", "graph", "embed")}
    seconds["other"] = max(0.0, float(report.seconds.get("total", wall)) - sum(seconds.values()))
    if report.failed:
        print(f"  {len(report.failed)} files failed, first: {report.failed[0]}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  {size:,} target: {report.documents} documents, {report.chunks} chunks, "
          f"{report.graph_nodes} graph nodes, {report.graph_edges} edges in {wall:.1f} s "
          f"(load average after: {load}; on {os.cpu_count()} cores; parse on the {settings.ingest_executor.value} "
          f"executor, {settings.ingest_workers or os.cpu_count()} workers)", flush=True)
    return SizeRun(size, report.chunks, report.documents, seconds)


def _print_profile(profiler: cProfile.Profile, path: Path) -> None:
    profiler.dump_stats(path)
    print(f"  profile written to {path}; costliest functions (cumulative):")
    pstats.Stats(str(path)).sort_stats("cumulative").print_stats(25)


def growth(first: SizeRun, last: SizeRun, stage: str) -> float:
    """How many times the time per chunk of ``stage`` grew from the smallest build to the largest."""
    before = first.per_chunk_us(stage)
    return last.per_chunk_us(stage) / before if before > 0 else float("inf")


def print_table(runs: list[SizeRun]) -> None:
    header = " | ".join(f"{r.chunks:>7,} ch: s, µs/ch" for r in runs)
    print(f"\n{'stage':<9}| {header} | growth {runs[0].target // 1000}k→{runs[-1].target // 1000}k")
    for stage in ALL_STAGES:
        cells = " | ".join(f"{r.seconds[stage]:8.1f}, {r.per_chunk_us(stage):7.0f}" for r in runs)
        print(f"{stage:<9}| {cells} | {growth(runs[0], runs[-1], stage):5.2f}×")
    totals = " | ".join(f"{sum(r.seconds[s] for s in TARGET_STAGES):8.1f}, {sum(r.per_chunk_us(s) for s in TARGET_STAGES):7.0f}" for r in runs)
    print(f"{'p+o+i+g':<9}| {totals} |")


def print_verdicts(runs: list[SizeRun]) -> bool:
    """PASS/FAIL per target; returns whether all passed."""
    first, last = runs[0], runs[-1]
    ok = True
    print()
    for stage in LINEAR_STAGES:
        factor = growth(first, last, stage)
        passed = factor <= MAX_GROWTH
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {stage}: time per chunk grows {factor:.2f}× from "
              f"{first.chunks:,} to {last.chunks:,} chunks (target ≤ {MAX_GROWTH}×)")
    together = sum(last.seconds[s] for s in TARGET_STAGES)
    passed = together <= TARGET_SECONDS
    ok &= passed
    at = "" if last.target == TARGET_CHUNKS else f" (measured at {last.target:,}, the target is set at {TARGET_CHUNKS:,})"
    print(f"{'PASS' if passed else 'FAIL'}  parse + organise + index + graph at {last.chunks:,} chunks: "
          f"{together:.1f} s (target ≤ {TARGET_SECONDS:.0f} s){at}")
    everything = together + last.seconds["other"]
    print(f"      all non-embedding time at {last.chunks:,} chunks, with 'other': {everything:.1f} s; "
          f"hashing embed {last.seconds['embed']:.1f} s (excluded)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000", help="comma-separated target chunk counts, smallest first")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gridkb-stages"))
    parser.add_argument("--reuse-corpus", action="store_true", help="keep synthetic corpora already in the workdir")
    parser.add_argument("--profile", action="store_true", help="cProfile each build (slower) and print the top functions")
    args = parser.parse_args()
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"stage scaling, hashing embedder, sizes {', '.join(f'{s:,}' for s in sizes)} ({time.strftime('%Y-%m-%d %H:%M')})")
    runs = [build(args.workdir, size, args.reuse_corpus, args.profile) for size in sizes]
    print_table(runs)
    if len(runs) > 1:
        sys.exit(0 if print_verdicts(runs) else 1)


if __name__ == "__main__":
    main()
