"""``gridkb eval``: build what a dataset needs (external knowledge bases, the baseline), run every
system through the harness, and write the Markdown and JSON reports."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gridkb.config import Settings
from gridkb.errors import EvaluationError
from gridkb.evaluation import datasets as ds
from gridkb.evaluation.classification import ClassificationResult, evaluate_classification
from gridkb.evaluation.harness import SystemResult, evaluate_dialogues, evaluate_domain, evaluate_external, evaluate_real
from gridkb.evaluation.systems import Bm25System, DenseSystem, EvalSystem, HybridSystem
from gridkb.kb import KnowledgeBase
from gridkb.production.documents import SourceRoot, load_document
from gridkb.ingest import ingest
from gridkb.storage.embedders import CachedEmbedder, EmbeddingCache

DATASETS = ("domain", "cmrc", "drcd", "pooled")
EXTERNAL_FILES = {
    "cmrc": {"dev": "cmrc2018/cmrc2018_dev.json", "trial": "cmrc2018/cmrc2018_trial.json"},
    "drcd": {"test": "drcd/DRCD_test.json", "dev": "drcd/DRCD_dev.json"},
}
DEFAULT_SPLIT = {"domain": "test", "cmrc": "dev", "drcd": "test", "pooled": "test"}
SHARED_REAL = "real-queries/dev.jsonl"  # real customer phrasings of ../shared, development only


@dataclass
class EvalRun:
    dataset: str
    split: str
    questions: int
    results: list[SystemResult]
    setup: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    classification: ClassificationResult | None = None
    customer_classification: ClassificationResult | None = None  # of the real-phrasing split: routes tickets
    sets: dict[str, list[SystemResult]] = field(default_factory=dict)  # further question sets of the same run, by title


@dataclass
class EvalOptions:
    dataset: str = "domain"
    split: str | None = None
    limit: int | None = None
    baseline: bool = True
    datasets_dir: Path = Path("eval/datasets")
    external_dir: Path = Path("../shared/eval-data")
    reports_dir: Path = Path("eval/reports")


Log = Callable[[str], None]


def gridkb_systems(kb: KnowledgeBase, domain: bool = True) -> list[EvalSystem]:
    """gridkb as served (hybrid search + QA), and its two raw retrievers for reference."""
    return [HybridSystem(kb, domain=domain), Bm25System(kb), DenseSystem(kb)]


def _baseline(kb: KnowledgeBase, documents: list[tuple[str, str]], workdir: Path, log: Log) -> EvalSystem:
    from gridkb.evaluation.baseline import LangChainBaseline, make_embeddings

    cache = EmbeddingCache(kb.layout.embedding_cache)
    cached = CachedEmbedder(kb.embedder, cache)
    log(f"building the LangChain baseline over {len(documents)} documents")
    baseline = LangChainBaseline(documents, make_embeddings(cached.embed_passages, kb.embedder.embed_query), workdir)
    cache.close()
    return baseline


def run_domain(settings: Settings, options: EvalOptions, log: Log) -> EvalRun:
    split = options.split or DEFAULT_SPLIT["domain"]
    kb = KnowledgeBase(settings)
    questions = ds.sample(ds.load_domain(options.datasets_dir / "domain_qa.jsonl", split), options.limit)
    unanswerable = ds.sample(ds.load_unanswerable(options.datasets_dir / "unanswerable.jsonl", split), options.limit)
    systems = gridkb_systems(kb)
    if options.baseline:
        files = {src: Path(entry.path or src) for src, entry in kb.manifest.documents.items()}  # key → file
        documents = [(src, load_document(path, settings.max_file_bytes, src).original_text) for src, path in files.items()]
        systems.append(_baseline(kb, documents, settings.kb_dir.parent / (settings.kb_dir.name + "-eval") / "baseline-domain", log))
    gold = ds.GoldIndex(Path("."))
    results = []
    for system in systems:
        log(f"evaluating {system.name} on {len(questions)} domain questions and {len(unanswerable)} unanswerable ones")
        results.append(evaluate_domain(system, questions, gold, unanswerable))
    log(f"classifying {len(questions)} questions")
    classification = evaluate_classification(kb, [(q.id, q.question, q.category) for q in questions])
    notes = [f"{len(unanswerable)} unanswerable questions of the {split} split for abstention"]
    run = EvalRun("domain", split, len(questions), results, _setup(kb), notes, classification)
    real = ds.sample(ds.load_real(options.datasets_dir / "real_phrasing.jsonl", split), options.limit)
    run.customer_classification = evaluate_classification(kb, [(q.id, q.q, q.category) for q in real])
    run.sets = customer_sets(kb, options, split, real, systems[-1] if options.baseline else None, log)
    return run


def customer_sets(
    kb: KnowledgeBase, options: EvalOptions, split: str, real: list[ds.RealQuestion], baseline: EvalSystem | None, log: Log
) -> dict[str, list[SystemResult]]:
    """The questions as customers type them (``real``: the real-phrasing split), through the widget's
    channel (public knowledge, one fresh conversation each), next to the baseline's top passage; and
    the multi-turn dialogues."""
    widget = HybridSystem(kb, audience="public")
    sets: dict[str, list[SystemResult]] = {}
    shared = options.external_dir / SHARED_REAL
    named = [(f"real phrasing ({split} split, {len(real)} questions)", real)]
    if shared.exists():
        tuned = ds.load_real(shared)
        named.append((f"real customer phrasings of ../shared ({len(tuned)}, development set: tuned on)", tuned))
    for title, questions in named:
        log(f"evaluating {title}")
        sets[title] = [evaluate_real(widget, questions)] + ([evaluate_real(baseline, questions)] if baseline else [])
    dialogues = ds.load_dialogues(options.datasets_dir / "multiturn.jsonl")
    log(f"evaluating {len(dialogues)} dialogues")
    sets[f"multi-turn dialogues ({len(dialogues)}, development set: tuned on)"] = [evaluate_dialogues(widget, dialogues)]
    return sets


def _external_data(options: EvalOptions, dataset: str, split: str) -> tuple[list[ds.ExternalPassage], list[ds.ExternalQuestion]]:
    if dataset in EXTERNAL_FILES:
        return _load_squad(options.external_dir / EXTERNAL_FILES[dataset][split])
    cmrc_passages, cmrc_questions = _load_squad(options.external_dir / EXTERNAL_FILES["cmrc"]["dev"])
    drcd_passages, drcd_questions = _load_squad(options.external_dir / EXTERNAL_FILES["drcd"]["test"])
    laws = ds.load_regulations(options.external_dir / "power-regulations")
    return cmrc_passages + drcd_passages + laws, cmrc_questions + drcd_questions


def _load_squad(path: Path) -> tuple[list[ds.ExternalPassage], list[ds.ExternalQuestion]]:
    if not path.is_file():
        raise EvaluationError(f"{path}: dataset file not found (--external-dir names the folder of the public datasets)")
    return ds.load_squad(path)


def check_options(options: EvalOptions) -> None:
    """Refuse an unknown dataset or split before anything is built; raises EvaluationError."""
    if options.dataset not in DATASETS:
        raise EvaluationError(f"unknown dataset '{options.dataset}' (choose from {', '.join(DATASETS)})")
    splits = EXTERNAL_FILES.get(options.dataset)
    if splits is not None and options.split is not None and options.split not in splits:
        raise EvaluationError(f"dataset '{options.dataset}' has no split '{options.split}' (choose from {', '.join(splits)})")


def run_external(settings: Settings, options: EvalOptions, log: Log) -> EvalRun:
    dataset = options.dataset
    split = options.split or DEFAULT_SPLIT[dataset]
    passages, questions = _external_data(options, dataset, split)
    workdir = settings.kb_dir.parent / (settings.kb_dir.name + "-eval") / f"{dataset}-{split}"
    corpus = workdir / "corpus"
    ds.write_passages(passages, corpus)
    external_settings = settings.model_copy(update={"kb_dir": workdir / "kb"})
    log(f"ingesting {len(passages)} passages into {external_settings.kb_dir} (incremental)")
    report = ingest([corpus], external_settings)
    kb = KnowledgeBase(external_settings)
    questions = ds.sample(questions, options.limit)
    file_of = {p.id: corpus / ds.passage_file_name(p.id) for p in passages}
    sources = {pid: SourceRoot.of(corpus).key(path) for pid, path in file_of.items()}
    # the power-domain gate and the answerability model (fitted on the power-supply knowledge base) do
    # not apply to Wikipedia text, and these sets have no unanswerable questions: answers are judged
    # without abstention, like the baseline's
    systems = gridkb_systems(kb, domain=False)
    if options.baseline:
        documents = [(sources[p.id], p.text) for p in passages]
        systems.append(_baseline(kb, documents, workdir / "baseline", log))
    results = []
    for system in systems:
        log(f"evaluating {system.name} on {len(questions)} {dataset} questions")
        results.append(evaluate_external(system, questions, sources.__getitem__))
    notes = [
        f"{len(passages)} passages ingested through the normal path ({report.chunks} chunks)",
        "answers without abstention and in the hybrid order: the confidence model and the reranker are fitted on power-supply questions",
    ]
    return EvalRun(dataset, split, len(questions), results, _setup(kb), notes)


def _setup(kb: KnowledgeBase) -> dict[str, str]:
    stats = kb.stats()
    return {
        "knowledge base": f"{stats.documents} documents, {stats.chunks} chunks, {stats.faqs} FAQs",
        "embedding model": stats.embedder,
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def run(settings: Settings, options: EvalOptions, log: Log) -> EvalRun:
    """Evaluate as ``options`` say; raises EvaluationError for an unknown dataset, split or missing file."""
    check_options(options)
    # every question is embedded in the timed call, as the baseline embeds it: no vectors from earlier runs
    settings = settings.model_copy(update={"shared_query_cache": False})
    if options.dataset == "domain":
        return run_domain(settings, options, log)
    return run_external(settings, options, log)
