"""Batch ingestion: files → documents → chunks → extraction → indexes and graph, incrementally and safely.

Documents are keyed by their folder's name and their path inside it (``documents.SourceRoot``), so a
corpus ingested from another place is recognised. Unchanged files (same bytes, same sidecar, same
pipeline fingerprint) reuse their previous records; changed ones are re-processed; files gone from an
ingested folder are removed everywhere; a document found under a new key with the content of one whose
file is gone is the same document, moved (replaced, not doubled). The new
generation is written through ``storage.generation.Generation``, aside, and switched in atomically (see
``storage.layout``). A file that fails
is reported with its reason and the batch goes on; if it was ingested before, its previous version
stays.

Parse and embed tasks run on a ``storage.executors.TaskExecutor``: local worker processes by default
(``GRIDKB_INGEST_EXECUTOR``), RQ workers over Redis across hosts, or this process for a handful of
files. Each parsed file's new chunks are embedded on the workers while later files are still being
parsed; the vectors come back here, the one writer of the embedding cache and of the generation.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gridkb.config import CLASSIFIER_TRAINING_FILE, Settings
from gridkb.errors import SourceError, UnsupportedFormatError
from gridkb.production.documents import SourceRoot, discover, file_hash, read_source
from gridkb.organisation.graph_links import add_organisation
from gridkb.organisation.organise import Organisation, labelled_question_files
from gridkb.organisation.taxonomy import TAXONOMY_FILE, Taxonomy
from gridkb.production.graph import GENERIC_WORDS_FILE, GenericWords, build_graph
from gridkb.production.lexicon import Lexicon
from gridkb.production.loaders import is_supported
from gridkb.production.fanout import IngestTasks, PendingFile, open_tasks, parse_files
from gridkb.production.parse_tasks import DocRecord, LexiconSpec, ParseLimits, lexicon_for
from gridkb.production.parse_tasks import process_document  # noqa: F401  (re-exported: its old home)
from gridkb.records import FileFailure, IngestReport
from gridkb import indexing
from gridkb.indexing import Progress, Silent
from gridkb.storage.embedders import create_embedder
from gridkb.storage.executors import TaskExecutor
from gridkb.storage.generation import ConfigSnapshot, DocumentEntry, Generation, GenerationFile, GenerationStats, Manifest
from gridkb.storage.graph_store import KnowledgeGraph
from gridkb.storage.layout import KbLayout

log = logging.getLogger(__name__)

PIPELINE_VERSION = "7"  # bump when a code change alters what a build produces
CONFIG_FILES = ("entities.yaml", "synonyms.yaml", "stopwords.txt", TAXONOMY_FILE, GENERIC_WORDS_FILE)
SNAPSHOT_SUFFIXES = (".yaml", ".yml", ".txt", ".json", ".jsonl", ".tsv")


def pipeline_fingerprint(settings: Settings) -> str:
    """Changes when anything that shapes the knowledge base changes: code, chunk sizes, kb/ configuration,
    the classifier's labelled questions."""
    digest = hashlib.sha256(f"{PIPELINE_VERSION}|{settings.chunk_min_chars}|{settings.chunk_max_chars}".encode())
    for path in [*(settings.config_dir / n for n in CONFIG_FILES), *labelled_question_files(settings.classifier_training)]:
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class _Previous:
    """The generation being served when this ingest started (none for a first build)."""

    manifest: Manifest | None
    generation: Generation | None

    @property
    def documents(self) -> dict[str, DocumentEntry]:
        return self.manifest.documents if self.manifest else {}

    def record(self, source: str) -> DocRecord | None:
        entry = self.documents.get(source)
        if entry is None or self.generation is None:
            return None
        data = self.generation.read_record(entry.id)
        return DocRecord.from_json(data) if data is not None else None

    def path_of(self, source: str) -> Path:
        """Where an earlier document's file was (before keys were relative, the key was that path)."""
        entry = self.documents.get(source)
        return Path((entry.path if entry else None) or source).resolve()


def _load_previous(layout: KbLayout) -> _Previous:
    """The served generation; raises GenerationError when its manifest is one this gridkb cannot read
    (a newer gridkb's build is never overwritten by guesswork)."""
    current = layout.current()
    if current is None:
        return _Previous(None, None)
    generation = Generation(current)
    return _Previous(generation.read_manifest(), generation)


def _roots(paths: Iterable[Path | SourceRoot], previous: _Previous, report: IngestReport) -> list[SourceRoot]:
    """The roots of this run. A file given on its own keeps the key it had when ingested before (from
    its folder); two folders of the same name would share keys, so the second is refused."""
    by_path = {str(previous.path_of(s)): s for s in previous.documents}
    roots: list[SourceRoot] = []
    for given in paths:
        root = given if isinstance(given, SourceRoot) else SourceRoot.of(given)
        if not root.path.exists():
            report.failed.append(FileFailure(str(root.path), "no such file or folder"))
            continue
        if root.path.is_file() and (known := by_path.get(str(root.path.resolve()))):
            root = SourceRoot(root.path, known, root.complete)
        if any(r.name == root.name and r.path.resolve() != root.path.resolve() for r in roots):
            reason = f"另一个同名目录 '{root.name}' 已在本次导入中：文档按目录名区分，请改名后导入"
            report.failed.append(FileFailure(str(root.path), reason))
            continue
        roots.append(root)
    return roots


def ingest(
    paths: Iterable[Path | SourceRoot], settings: Settings, progress: Progress | None = None, executor: TaskExecutor | None = None
) -> IngestReport:
    """Ingest files and folders into the knowledge base at ``settings.kb_dir``; returns what happened.
    Parse and embed tasks run on ``executor`` (default: the one the settings name, or this process for
    a handful of files); if one fails, WorkerFailedError is raised and nothing is published."""
    progress = progress or Silent()
    layout = KbLayout(settings.kb_dir)
    started = time.perf_counter()
    # the in-process embedder is made here, by name: benchmarks substitute one through this module
    with layout.writer_lock(), open_tasks(settings, executor, layout.embedding_cache, lambda: create_embedder(settings)) as tasks:
        layout.clean()
        report = IngestReport()
        previous = _load_previous(layout)
        fingerprint = pipeline_fingerprint(settings)
        same_pipeline = previous.manifest is not None and previous.manifest.fingerprint == fingerprint
        lexicon = LexiconSpec.of(Lexicon.load(settings.config_dir))
        roots = _roots(paths, previous, report)
        files: dict[str, Path] = {}
        records, pending = _scan(roots, settings, previous, same_pipeline, report, progress, files)
        _parse(pending, settings, lexicon, previous, tasks, records, report, progress)
        moved_from = _recognise_moves(records, files, previous, report)
        for source in previous.documents:
            if source in records or source in moved_from:
                continue
            if any(r.complete and r.holds(source) for r in roots) and not any(f.path == source for f in report.failed):
                report.removed.append(source)
            elif (kept := previous.record(source)) is not None:
                records[source] = kept  # outside this run's folders, or failed now: keep what we had
        locations = {s: str(files.get(s) or previous.path_of(s)) for s in records}
        report.seconds["parse"] = round(time.perf_counter() - started - tasks.prefetch_seconds, 3)
        if not (report.added or report.updated or report.removed or report.moved) and previous.generation and previous.manifest and same_pipeline:
            report.generation = previous.generation.name
            _fill_counts(report, previous.manifest.stats)
            report.seconds["total"] = round(time.perf_counter() - started, 3)
            return report
        _build_generation(layout, settings, lexicon_for(lexicon), records, locations, fingerprint, report, progress, tasks)
        layout.clean()
        indexing.drop_stale_collections(settings, layout.kb_id(), layout.generation_names())
    report.seconds["total"] = round(time.perf_counter() - started, 3)
    return report


def _scan(
    roots: Sequence[SourceRoot],
    settings: Settings,
    previous: _Previous,
    same_pipeline: bool,
    report: IngestReport,
    progress: Progress,
    files: dict[str, Path],
) -> tuple[dict[str, DocRecord], list[PendingFile]]:
    """The records of unchanged files under ``roots`` by key, and the files to parse; fills ``files``
    (key → resolved path) and the report's skipped, failed and unchanged files."""
    found = [(root.key(path), path) for root in roots for path in discover([root.path])]
    progress.start("parse", len(found))
    known = previous.documents
    records: dict[str, DocRecord] = {}
    pending: list[PendingFile] = []
    for source, path in found:
        files[source] = path.resolve()
        if not is_supported(path):
            report.skipped.append(FileFailure(source, UnsupportedFormatError(source, f"unsupported format '{path.suffix}'").reason))
            progress.advance("parse")
            continue
        try:
            digest = file_hash(read_source(path, settings.max_file_bytes), path)
        except SourceError as exc:
            report.failed.append(FileFailure(source, exc.reason))
            progress.advance("parse")
            continue
        if same_pipeline and source in known and known[source].content_hash == digest and (kept := previous.record(source)) is not None:
            records[source] = kept
            report.unchanged += 1
            progress.advance("parse")
            continue
        pending.append(PendingFile(source, path))
    return records, pending


def _parse(
    pending: Sequence[PendingFile],
    settings: Settings,
    lexicon: LexiconSpec,
    previous: _Previous,
    tasks: IngestTasks,
    records: dict[str, DocRecord],
    report: IngestReport,
    progress: Progress,
) -> None:
    """Parse new and changed files as tasks (their chunks embedded meanwhile when the ingest fans out);
    adds their records, and reports them in the order they were found."""
    if not pending:
        return
    executor = tasks.open_executor(len(pending))
    prefetch = tasks.prefetch()
    results = parse_files(pending, ParseLimits.of(settings), lexicon, executor, prefetch, lambda n: progress.advance("parse", n))
    if prefetch is not None:
        waited = time.perf_counter()
        prefetch.finish()
        tasks.prefetch_seconds = time.perf_counter() - waited
    for file in pending:
        result = results[file.source]
        if isinstance(result, str):
            report.failed.append(FileFailure(file.source, result))
            continue
        records[file.source] = result
        (report.updated if file.source in previous.documents else report.added).append(file.source)


def _recognise_moves(records: dict[str, DocRecord], files: dict[str, Path], previous: _Previous, report: IngestReport) -> set[str]:
    """Added documents with the content of an earlier document that this run did not see under its key,
    whose file is gone or is this very file (a renamed folder; a build keyed by absolute paths): the
    same document under a new key. Reported as moved; returns the old keys, which are dropped."""
    by_hash: dict[str, list[str]] = {}
    for old, entry in previous.documents.items():
        if old not in records and not any(f.path == old for f in report.failed):
            by_hash.setdefault(entry.content_hash, []).append(old)
    replaced: set[str] = set()
    for new in list(report.added):
        for old in by_hash.get(records[new].document.content_hash, []):
            where = previous.path_of(old)
            if old not in replaced and (where == files[new] or not where.exists()):
                replaced.add(old)
                report.added.remove(new)
                report.moved.append(new)
                break
    return replaced


def _build_generation(
    layout: KbLayout,
    settings: Settings,
    lexicon: Lexicon,
    records: dict[str, DocRecord],
    locations: dict[str, str],
    fingerprint: str,
    report: IngestReport,
    progress: Progress,
    tasks: IngestTasks,
) -> None:
    """Write a complete new generation from ``records`` (keyed by source) and make it current."""
    staging = layout.new_staging()
    ordered = [records[s] for s in sorted(records)]
    for record in ordered:
        staging.write_record(record.document.id, record.to_json())
    embedder = tasks.embedder()
    t0 = time.perf_counter()
    documents, chunks = [r.document for r in ordered], [c for r in ordered for c in r.chunks]
    built = indexing.build(layout.kb_id(), staging, settings, lexicon, embedder, documents, chunks, progress)
    # the chunks parsed here were embedded while parsing went on; this counts only the wait after it
    report.seconds["embed"] = round(built.embed_seconds + tasks.prefetch_seconds, 3)
    report.seconds["index"] = round(time.perf_counter() - t0 - built.embed_seconds - built.organise_seconds, 3)
    report.embedded = embedder.misses
    report.seconds["organise"] = round(built.organise_seconds, 3)
    t1 = time.perf_counter()
    progress.start("graph", 1)
    graph = _build_graph(settings, lexicon, ordered, built.organisation)
    graph.save(staging.path(GenerationFile.GRAPH))
    report.seconds["graph"] = round(time.perf_counter() - t1, 3)
    progress.advance("graph")
    stats = GenerationStats(
        documents=len(ordered),
        chunks=len(chunks),
        faqs=sum(len(d.faqs) for d in documents),
        terms=len({t.name for r in ordered for t in r.terms}),  # a term defined in two documents is one term
        entities=sum(1 for _ in graph.nodes("entity")),  # generic words are not entities
        graph_nodes=graph.number_of_nodes(),
        graph_edges=graph.number_of_edges(),
        duplicate_groups=len(built.organisation.duplicates),
        conflicts=len(built.organisation.conflicts),
    )
    staging.write_manifest(
        Manifest(
            generation=staging.name,
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            fingerprint=fingerprint,
            embedder=built.embedder,
            vector_store=built.vector_store,
            stats=stats,
            config=_snapshot_config(settings, staging.path(GenerationFile.CONFIG)),
            documents={r.document.source: _document_entry(r, locations.get(r.document.source)) for r in ordered},
        )
    )
    report.generation = layout.publish(staging).name
    _fill_counts(report, stats)


def _build_graph(settings: Settings, lexicon: Lexicon, ordered: Sequence[DocRecord], organisation: Organisation) -> KnowledgeGraph:
    """The knowledge graph of the organised chunks, their entities, terms and relations."""
    entities = {e.id: e for e in lexicon.entities}
    for record in ordered:
        for entity in record.entities:
            entities.setdefault(entity.id, entity)
    organised = {c.id: c for c in organisation.chunks}
    graph = build_graph(
        ((r.document, [organised[c.id] for c in r.chunks]) for r in ordered),
        entities.values(),
        [t for r in ordered for t in r.terms],
        (x for r in ordered for x in r.relations),
        lexicon,
        GenericWords.load(settings.config_dir),
    )
    add_organisation(graph, organisation, Taxonomy.from_config(settings.config_dir))
    return graph


def _document_entry(record: DocRecord, path: str | None) -> DocumentEntry:
    document = record.document
    return DocumentEntry(
        id=document.id,
        path=path,
        content_hash=document.content_hash,
        title=document.title,
        format=document.format,
        audience=document.meta.audience,
        chunks=len(record.chunks),
        faqs=len(document.faqs),
    )


def _ending_with_newline(data: bytes) -> bytes:
    return data if not data or data.endswith(b"\n") else data + b"\n"


def _snapshot_config(settings: Settings, target: Path) -> ConfigSnapshot:
    """Copy the configuration this build used into the generation, so that the knowledge base answers
    and rebuilds the same way wherever it is used from; returns what the manifest records."""
    target.mkdir()
    files = [p for p in sorted(settings.config_dir.iterdir()) if p.is_file() and p.suffix in SNAPSHOT_SUFFIXES]
    for path in files:
        shutil.copyfile(path, target / path.name)
    if labelled := labelled_question_files(settings.classifier_training):  # one file, however many it came from
        (target / CLASSIFIER_TRAINING_FILE).write_bytes(b"".join(_ending_with_newline(path.read_bytes()) for path in labelled))
    source = settings.config_dir.resolve()
    # a previous generation's copy goes away with that generation: then only the new copy counts
    from_generation = source.is_relative_to(target.parent.parent.resolve())
    return ConfigSnapshot(
        source=None if from_generation else str(source),
        classifier_training=str(settings.classifier_training.resolve()),
        files=tuple(sorted(p.name for p in target.iterdir())),
    )


def _fill_counts(report: IngestReport, stats: GenerationStats) -> None:
    for key in ("documents", "chunks", "faqs", "terms", "entities", "graph_nodes", "graph_edges"):
        setattr(report, key, getattr(stats, key))
