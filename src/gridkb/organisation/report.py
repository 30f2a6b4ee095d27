"""The organisation report for knowledge operators: category coverage (and thin categories),
duplicate groups and conflicts of the current knowledge base."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from gridkb.records import ChunkKind, Conflict, DuplicateGroup

THIN_CHUNKS = 15
THIN_DOCUMENTS = 2


@dataclass
class CategoryCoverage:
    code: str
    name: str
    department: str
    documents: int
    chunks: int
    faqs: int
    thin: bool


@dataclass
class OrganisationReport:
    coverage: list[CategoryCoverage]
    duplicates: list[DuplicateGroup]
    conflicts: list[Conflict]
    unclassified_chunks: int = 0
    canonical_text: dict[str, str] = field(default_factory=dict)  # canonical chunk id → text snippet
    chunk_titles: dict[str, str] = field(default_factory=dict)  # every chunk named above → "document title › section"
    chunk_text: dict[str, str] = field(default_factory=dict)  # every duplicate group member → text snippet

    @property
    def thin_categories(self) -> list[str]:
        return [c.code for c in self.coverage if c.thin]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["thin_categories"] = self.thin_categories
        return data


def build_report(kb: Any, conflicts: Sequence[Conflict] | None = None) -> OrganisationReport:
    """``kb``: a KnowledgeBase (typed loosely to keep this module below kb.py); ``conflicts``: its
    conflicts with rulings applied (default: as the build left them)."""
    chunks = kb.chunks
    chunk_counts = Counter(c.category for c in chunks)
    faq_counts = Counter(c.category for c in chunks if c.kind is ChunkKind.FAQ)
    doc_counts = Counter(kb.organisation["document_categories"].values())
    coverage = [
        CategoryCoverage(
            cat.code, cat.name, cat.department, doc_counts[cat.code], chunk_counts[cat.code], faq_counts[cat.code],
            thin=chunk_counts[cat.code] < THIN_CHUNKS or doc_counts[cat.code] < THIN_DOCUMENTS,
        )
        for cat in kb.taxonomy.categories
    ]
    duplicates = kb.duplicates
    by_id = kb.chunk_by_id
    snippets = {g.canonical: by_id[g.canonical].text[:80] for g in duplicates if g.canonical in by_id}
    conflicts = list(kb.conflicts if conflicts is None else conflicts)
    named = {m for g in duplicates for m in g.members} | {s.chunk_id for c in conflicts for s in c.statements}
    titles = {i: " › ".join(by_id[i].title_path) for i in named if i in by_id}
    texts = {m: by_id[m].text[:80] for g in duplicates for m in g.members if m in by_id}
    known = set(kb.taxonomy.codes)
    unclassified = sum(1 for c in chunks if c.category not in known)
    return OrganisationReport(coverage, duplicates, conflicts, unclassified, snippets, titles, texts)
