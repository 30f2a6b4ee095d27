"""Build the knowledge graph from what production extracted: documents, sections, chunks, FAQ
entries, terms, entities, quantities and relations, with provenance on every edge."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from gridkb.errors import ConfigError
from gridkb.production.lexicon import Lexicon
from gridkb.records import Chunk, Document, Entity, Relation, Term, content_id
from gridkb.storage.graph_store import KnowledgeGraph

GENERIC_WORDS_FILE = "generic_words.yaml"


@dataclass(frozen=True)
class GenericWords:
    """Words too general to be graph entities (用户, 办理, 供电…): a stoplist from ``kb/generic_words.yaml``,
    and a document-frequency rule: a discovered word in more than ``max_document_share`` of the
    documents is not an entity. Dictionary entities are exempt from the rule, not from the list."""

    words: frozenset[str] = frozenset()
    max_document_share: float = 0.5
    min_documents: int = 8

    @classmethod
    def load(cls, config_dir: Path) -> "GenericWords":
        """Read the file (an absent file means no stoplist, the default rule); raises ConfigError when malformed."""
        path = config_dir / GENERIC_WORDS_FILE
        if not path.exists():
            return cls()
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            share, minimum = float(raw.get("max_document_share", 0.5)), int(raw.get("min_documents", 8))
        except (yaml.YAMLError, AttributeError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: expected words: [...], max_document_share: 0–1, min_documents: N ({exc})") from None
        if not 0 < share <= 1:
            raise ConfigError(f"{path}: max_document_share must be between 0 and 1, not {share}")
        return cls(frozenset(str(w).strip() for w in raw.get("words") or [] if str(w).strip()), share, minimum)

    def entity_ids(self, entities: Iterable[Entity], texts: Sequence[str], curated: Collection[str] = ()) -> set[str]:
        """Ids of the entities that are generic: listed, or (unless ``curated``) in most of ``texts``."""
        entities = list(entities)
        generic = {e.id for e in entities if e.name in self.words}
        if len(texts) < self.min_documents:
            return generic
        counted = [e for e in entities if e.id not in generic and e.id not in curated]
        documents = document_counts({e.name for e in counted}, texts)
        return generic | {e.id for e in counted if documents[e.name] / len(texts) > self.max_document_share}


def document_counts(names: Collection[str], texts: Iterable[str]) -> Counter[str]:
    """How many of ``texts`` contain each of ``names`` as a substring. One pass over each text that looks
    names up by their first two characters, so the cost grows with the texts and not with names × texts
    (a real corpus discovers about one name per chunk)."""
    lengths: dict[str, set[int]] = defaultdict(set)  # first two characters → lengths of the names they start
    for name in names:
        if len(name) >= 2:
            lengths[name[:2]].add(len(name))
    wanted = {n for n in names if len(n) >= 2}
    short = [n for n in names if len(n) < 2]
    counts: Counter[str] = Counter()
    for text in texts:
        found = {text[i : i + size] for i in range(len(text) - 1) for size in lengths.get(text[i : i + 2], ())}
        counts.update(found & wanted)
        counts.update(n for n in short if n in text)
    return counts


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
        if (entity := lexicon.by_surface.get(term.name)) and graph.has_node(entity):
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
    generic: GenericWords | None = None,
) -> KnowledgeGraph:
    """The graph of the whole knowledge base; generic words (``generic``) are left out as entities."""
    documents, entities = list(documents), list(entities)
    left_out = (generic or GenericWords()).entity_ids(entities, [d.text for d, _ in documents], {e.id for e in lexicon.entities})
    graph = KnowledgeGraph()
    add_entities(graph, (e for e in entities if e.id not in left_out))
    for document, chunks in documents:
        add_document(graph, document, [_without(chunk, left_out) for chunk in chunks])
    add_terms(graph, terms, lexicon)
    add_relations(graph, (r for r in relations if r.source not in left_out and r.target not in left_out))
    return graph


def _without(chunk: Chunk, left_out: set[str]) -> Chunk:
    """The chunk as the graph sees it: no mentions of generic entities, no quantities attached to them."""
    if not left_out:
        return chunk
    quantities = tuple(q if q.subject not in left_out else replace(q, subject="") for q in chunk.quantities)
    return replace(chunk, entities=tuple(e for e in chunk.entities if e not in left_out), quantities=quantities)
