"""The knowledge graph around one entity, for the agent console's explorer."""

from __future__ import annotations

from typing import Any

from gridkb.kb import KnowledgeBase
from gridkb.production.normalize import normalize_query

MAX_NEIGHBOURS = 40


def neighbourhood(kb: KnowledgeBase, name: str, limit: int = MAX_NEIGHBOURS) -> dict[str, Any] | None:
    """The entity named ``name`` (or one of its aliases) with its heaviest neighbours and the edges
    between them; None when the knowledge base knows no such entity."""
    text = normalize_query(name).strip()
    lexicon = kb.lexicon
    entity_id = lexicon.by_surface.get(text) or next((e for e, _ in lexicon.mentions(text)), None)
    graph = kb.graph
    if entity_id is None or not graph.has_node(entity_id):
        return None
    chosen = [entity_id]
    for neighbour, _, _ in graph.neighbours(entity_id):
        if neighbour not in chosen:
            chosen.append(neighbour)
        if len(chosen) > limit:
            break
    inside = set(chosen)
    nodes = []
    for node_id in chosen:
        data = graph.node(node_id)
        label = data.get("label", node_id)
        if data.get("type") == "chunk":
            chunk = kb.chunk_by_id.get(node_id.removeprefix("chunk:"))
            label = " › ".join(chunk.title_path) if chunk else label
        nodes.append({"id": node_id, "type": data.get("type", ""), "label": label})
    edges = []
    seen = set()
    for node_id in chosen:
        for source, target, data in graph.edges(node_id):
            key = (source, target, data.get("type"))
            if source in inside and target in inside and key not in seen:
                seen.add(key)
                edges.append({"source": source, "target": target, "type": data.get("type", ""), "weight": float(data.get("weight", 1.0))})
    return {"center": entity_id, "nodes": nodes, "edges": edges}
