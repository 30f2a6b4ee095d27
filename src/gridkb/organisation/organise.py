"""Organisation (知识分类、知识整合、知识关联) of one knowledge-base generation.

Runs inside the build, after embedding and before the indexes are written, so every index carries
each chunk's category and validity: classify chunks and documents, apply ``supersedes`` links to
validity, group duplicates under canonical items, list conflicts, and link related items.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gridkb.organisation.classify import CategoryClassifier, TrainingExample
from gridkb.organisation.conflicts import find_conflicts
from gridkb.organisation.dedup import RELATED_COSINE, duplicate_groups, related_pairs, top_neighbours
from gridkb.organisation.taxonomy import UNKNOWN, Taxonomy
from gridkb.production.lexicon import Lexicon
from gridkb.records import Chunk, ChunkKind, Conflict, Document, DuplicateGroup
from gridkb.storage.generation import Generation, GenerationFile

if TYPE_CHECKING:
    from gridkb.storage.embedders import CachedEmbedder



@dataclass
class Organisation:
    chunks: list[Chunk]
    document_categories: dict[str, str] = field(default_factory=dict)  # doc id → category
    duplicates: list[DuplicateGroup] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    related: list[tuple[str, str, float]] = field(default_factory=list)
    supersedes: dict[str, str] = field(default_factory=dict)  # source → superseded source

    def to_dict(self) -> dict[str, object]:
        """What ``organisation.json`` holds (the chunks are in the chunk table)."""
        return {
            "document_categories": self.document_categories,
            "duplicates": [g.to_dict() for g in self.duplicates],
            "conflicts": [c.to_dict() for c in self.conflicts],
            "supersedes": self.supersedes,
            "related": self.related,
        }


def training_examples(
    documents: Sequence[Document], chunks: Sequence[Chunk], vectors: np.ndarray, taxonomy: Taxonomy, embedder: "CachedEmbedder", extra: Path | None
) -> list[TrainingExample]:
    """Labelled questions (FAQ questions and paraphrases, taxonomy examples, the dev split) as query
    vectors, and labelled FAQ chunks as passage vectors, so both kinds of text are covered."""
    texts: list[tuple[str, str]] = []
    for doc in documents:
        for faq in doc.faqs:
            if faq.category:
                texts.extend((q, faq.category) for q in (faq.question, *faq.similar))
    for category in taxonomy.categories:
        texts.extend((q, category.code) for q in category.examples)
    texts += labelled_dev_questions(extra) if extra is not None else []
    query_vectors = embedder.embed_queries([t for t, _ in texts])
    examples = [TrainingExample(v, label, t) for v, (t, label) in zip(query_vectors, texts)]
    examples += [TrainingExample(vectors[i], c.category, c.text) for i, c in enumerate(chunks) if c.kind is ChunkKind.FAQ and c.category]
    return examples


def labelled_question_files(path: Path) -> list[Path]:
    """The files of labelled questions ``path`` names: itself, or the ``.jsonl`` files of a folder."""
    if path.is_dir():
        return sorted(path.glob("*.jsonl"))
    return [path] if path.is_file() else []


def labelled_dev_questions(path: Path) -> list[tuple[str, str]]:
    """(question, category) of the dev split of the labelled questions in ``path`` (a JSONL file or a
    folder of them: the staff's domain questions under ``question``, customers' phrasings under ``q``)."""
    labelled = []
    for file in labelled_question_files(path):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                question = row.get("question") or row.get("q")
                if row.get("split") == "dev" and row.get("category") and question:
                    labelled.append((question, row["category"]))
    return labelled


def _resolve_supersedes(documents: Sequence[Document]) -> dict[str, str]:
    """``supersedes`` is written relative to the corpus folder; match it to an ingested source."""
    sources = [d.source for d in documents]
    links = {}
    for doc in documents:
        target = doc.meta.supersedes
        if target:
            match = next((s for s in sources if s == target or s.endswith("/" + target.lstrip("/"))), None)
            if match and match != doc.source:
                links[doc.source] = match
    return links


def _apply_supersedes(chunks: list[Chunk], documents: Sequence[Document], links: dict[str, str]) -> list[Chunk]:
    """A superseded document stops being valid the day before its successor takes effect."""
    by_source = {d.source: d for d in documents}
    ends: dict[str, str] = {}
    for successor, old in links.items():
        start = by_source[successor].meta.valid_from
        end = (date.fromisoformat(start) - timedelta(days=1)).isoformat() if start else date.min.isoformat()
        current = by_source[old].meta.valid_to
        ends[old] = min(end, current) if current else end
    return [replace(c, valid_to=ends[c.source]) if c.source in ends else c for c in chunks]


def _classify_chunks(chunks: list[Chunk], vectors: np.ndarray, classifier: CategoryClassifier) -> tuple[list[Chunk], dict[str, str]]:
    """Chunk categories (curated FAQ labels win), smoothed by their document's overall category."""
    probabilities = classifier.probabilities(vectors, [c.index_text for c in chunks]) if chunks else np.zeros((0, 0))
    by_doc: dict[str, list[int]] = defaultdict(list)
    for i, chunk in enumerate(chunks):
        by_doc[chunk.doc_id].append(i)
    doc_categories: dict[str, str] = {}
    result = list(chunks)
    for doc_id, rows in by_doc.items():
        doc_mean = probabilities[rows].mean(axis=0)
        doc_categories[doc_id] = classifier.decide(doc_mean).category
        for i in rows:
            chunk = chunks[i]
            if chunk.kind is ChunkKind.FAQ and chunk.category:
                continue
            decision = classifier.decide(0.7 * probabilities[i] + 0.3 * doc_mean)
            result[i] = replace(chunk, category=decision.category if decision.category != UNKNOWN else doc_categories[doc_id])
    for doc_id, rows in by_doc.items():
        if doc_categories[doc_id] == UNKNOWN:
            doc_categories[doc_id] = Counter(result[i].category for i in rows).most_common(1)[0][0]
    return result, doc_categories


def organise(
    documents: Sequence[Document],
    chunks: list[Chunk],
    vectors: np.ndarray,
    lexicon: Lexicon,
    taxonomy: Taxonomy,
    embedder: "CachedEmbedder",
    training_extra: Path | None,
    today: date,
    generation: Generation,
) -> Organisation:
    """Organise one generation; writes its classifier and its organisation file into ``generation``."""
    examples = training_examples(documents, chunks, vectors, taxonomy, embedder, training_extra)
    classifier = CategoryClassifier.train(taxonomy, examples)
    classifier.save(generation.path(GenerationFile.CLASSIFIER))
    links = _resolve_supersedes(documents)
    chunks = _apply_supersedes(chunks, documents, links)
    chunks, doc_categories = _classify_chunks(chunks, vectors, classifier)
    neighbours = top_neighbours(vectors, k=10, min_cosine=RELATED_COSINE)
    groups = duplicate_groups(chunks, vectors, neighbours)
    canonical = {member: g.canonical for g in groups for member in g.members[1:]}
    chunks = [replace(c, canonical_id=canonical.get(c.id, "")) for c in chunks]
    same_group = {(a, b) for g in groups for a in g.members for b in g.members if a != b}
    organisation = Organisation(
        chunks=chunks,
        document_categories=doc_categories,
        duplicates=groups,
        conflicts=find_conflicts(chunks, lexicon, links, today),
        related=related_pairs(chunks, neighbours, same_group),
        supersedes=links,
    )
    generation.write_organisation(organisation.to_dict())
    return organisation
