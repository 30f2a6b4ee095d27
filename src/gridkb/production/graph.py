"""Build the knowledge graph from what production extracted: documents, sections, chunks, FAQ
entries, terms, entities, quantities and relations, with provenance on every edge."""

from __future__ import annotations

from collections.abc import Iterable

from gridkb.production.lexicon import Lexicon
from gridkb.records import Chunk, Document, Entity, Relation, Term, content_id
from gridkb.storage.graph_store import KnowledgeGraph


def section_node(doc_id: str, title_path: tuple[str, ...]) -> str:
    return f"sec:{content_id(doc_id, *title_path)}"


def add_document(graph: KnowledgeGraph, document: Document, chunks: Iterable[Chunk]) -> None:
    """Document → section → chunk containment, FAQ entries, and chunk → entity / quantity mentions."""
    doc_node = f"doc:{document.id}"
    graph.add_node(doc_node, "document", document.title, source=document.source, audience=document.meta.audience.value)
    for faq in document.faqs:
        graph.add_node(f"faq:{faq.id}", "faq", faq.question, doc=document.id, category=faq.category)
        graph.add_edge(doc_node, f"faq:{faq.id}", "contains")
    for chunk in chunks:
        parent = doc_node
        for depth in range(2, len(chunk.title_path) + 1):
            node = section_node(document.id, chunk.title_path[:depth])
            graph.add_node(node, "section", chunk.title_path[depth - 1], doc=document.id)
            graph.add_edge(parent, node, "contains")
            parent = node
        chunk_node = f"chunk:{chunk.id}"
        graph.add_node(chunk_node, "chunk", chunk.section or document.title, doc=document.id, audience=chunk.audience.value)
        graph.add_edge(parent, chunk_node, "contains")
        if chunk.faq_id:
            graph.add_edge(f"faq:{chunk.faq_id}", chunk_node, "answered_by", chunk=chunk.id)
        for entity in chunk.entities:
            graph.add_edge(chunk_node, entity, "mentions", chunk=chunk.id)
        for quantity in chunk.quantities:
            q_node = f"qty:{quantity.text}"
            graph.add_node(q_node, "quantity", quantity.text, kind=quantity.kind)
            graph.add_edge(chunk_node, q_node, "states", chunk=chunk.id)
            if quantity.subject:
                graph.add_edge(quantity.subject, q_node, "has_quantity", chunk=chunk.id)


def add_entities(graph: KnowledgeGraph, entities: Iterable[Entity]) -> None:
    for entity in entities:
        graph.add_node(entity.id, "entity", entity.name, entity_type=entity.type, aliases=list(entity.aliases))


def add_terms(graph: KnowledgeGraph, terms: Iterable[Term], lexicon: Lexicon) -> None:
    """A term node defined in its chunk, linked to the entity of the same name when there is one."""
    for term in terms:
        node = f"term:{term.id}"
        graph.add_node(node, "term", term.name, definition=term.definition, english=term.english)
        if term.chunk_id:
            graph.add_edge(node, f"chunk:{term.chunk_id}", "defined_in", chunk=term.chunk_id)
        if entity := lexicon.by_surface.get(term.name):
            graph.add_edge(node, entity, "same_as")


def add_relations(graph: KnowledgeGraph, relations: Iterable[Relation]) -> None:
    for relation in relations:
        for node in (relation.source, relation.target):
            if not graph.has_node(node):
                graph.add_node(node, "entity", node.removeprefix("ent:"), entity_type="concept")
        graph.add_edge(relation.source, relation.target, relation.type, relation.weight, chunk=relation.chunk_id)


def build_graph(
    documents: Iterable[tuple[Document, list[Chunk]]],
    entities: Iterable[Entity],
    terms: Iterable[Term],
    relations: Iterable[Relation],
    lexicon: Lexicon,
) -> KnowledgeGraph:
    graph = KnowledgeGraph()
    add_entities(graph, entities)
    for document, chunks in documents:
        add_document(graph, document, chunks)
    add_terms(graph, terms, lexicon)
    add_relations(graph, relations)
    return graph
