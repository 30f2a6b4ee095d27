"""Organisation's marks on the knowledge graph: categories, supersedes links, duplicate groups and
related-item links (chunk↔chunk, FAQ↔FAQ) with weights, used by recommendation."""

from __future__ import annotations

from gridkb.organisation.organise import Organisation
from gridkb.organisation.taxonomy import Taxonomy
from gridkb.storage.graph_store import KnowledgeGraph


def category_node(code: str) -> str:
    return f"cat:{code}"


def add_organisation(graph: KnowledgeGraph, organisation: Organisation, taxonomy: Taxonomy) -> None:
    for category in taxonomy.categories:
        graph.add_node(category_node(category.code), "category", category.name, department=category.department)
    faq_of = {c.id: c.faq_id for c in organisation.chunks if c.faq_id}
    for chunk in organisation.chunks:
        if chunk.category and taxonomy.get(chunk.category):
            graph.add_edge(f"chunk:{chunk.id}", category_node(chunk.category), "in_category")
    for doc_id, code in organisation.document_categories.items():
        if taxonomy.get(code):
            graph.add_edge(f"doc:{doc_id}", category_node(code), "in_category")
    doc_of = {c.source: c.doc_id for c in organisation.chunks}
    for successor, old in organisation.supersedes.items():
        if successor in doc_of and old in doc_of:
            graph.add_edge(f"doc:{doc_of[successor]}", f"doc:{doc_of[old]}", "supersedes")
    for group in organisation.duplicates:
        for member in group.members[1:]:
            graph.add_edge(f"chunk:{member}", f"chunk:{group.canonical}", "duplicate_of", group.similarity)
    for a, b, weight in organisation.related:
        graph.add_edge(f"chunk:{a}", f"chunk:{b}", "related", weight)
        if a in faq_of and b in faq_of:
            graph.add_edge(f"faq:{faq_of[a]}", f"faq:{faq_of[b]}", "related", weight)
