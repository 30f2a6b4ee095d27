"""Ingestion benchmark: throughput on a synthetic corpus, and an incremental re-ingest with nothing changed.

    .venv/bin/python scripts/bench_ingest.py [--chunks 10000] [--workdir /tmp/gridkb-bench]

Generates Markdown documents of service-guide shape (numbered sections, sentences with numbers
and units) until the target chunk count is reached, ingests them into a fresh knowledge base and
prints chunks/s for parse (load + structure + chunk + extract), embed and index, then re-ingests
the unchanged corpus and prints its time as a share of the full ingest (target: under 5 %).
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path

from gridkb.config import Settings
from gridkb.ingest import ingest

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=10000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gridkb-bench"))
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    corpus = args.workdir / "corpus"
    docs = write_corpus(corpus, args.chunks)
    settings = Settings(kb_dir=args.workdir / "kb")
    started = time.perf_counter()
    report = ingest([corpus], settings)
    full = time.perf_counter() - started
    s = report.seconds
    print(f"synthetic corpus: {docs} documents, {report.chunks} chunks, {report.graph_nodes} graph nodes, {report.graph_edges} edges")
    print(f"full ingest: {full:.1f} s = {report.chunks / full:.1f} chunks/s overall")
    for stage in ("parse", "embed", "index", "graph"):
        seconds = s.get(stage, 0.0)
        rate = report.chunks / seconds if seconds else float("inf")
        print(f"  {stage:>5}: {seconds:8.1f} s  {rate:10.1f} chunks/s")
    started = time.perf_counter()
    again = ingest([corpus], settings)
    unchanged = time.perf_counter() - started
    print(f"re-ingest, nothing changed: {unchanged:.2f} s = {100 * unchanged / full:.2f} % of the full ingest "
          f"(unchanged {again.unchanged}, embedded {again.embedded})")
    first = corpus / "guide00000.md"
    first.write_text(first.read_text(encoding="utf-8") + "\n## 99 新增条款\n新增条款于 2026 年起执行。\n", encoding="utf-8")
    started = time.perf_counter()
    changed = ingest([corpus], settings)
    one = time.perf_counter() - started
    print(f"re-ingest, one document changed: {one:.1f} s (embedded {changed.embedded} new texts)")


if __name__ == "__main__":
    main()
