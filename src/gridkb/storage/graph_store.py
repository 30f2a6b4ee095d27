"""The knowledge graph: a networkx MultiDiGraph behind a small interface, persisted as node-link
JSON with orjson (portable, and loads a 50k-edge graph in well under a second).

Nodes carry ``type`` (document, section, chunk, faq, term, entity, quantity) and a ``label``;
edges carry ``type``, ``weight`` and the ``chunk`` that provides the evidence (provenance).
Parallel edges of different types between the same nodes are kept apart by their key (the type).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import orjson


LONG_EVIDENCE = 32  # chunks of one edge beyond which their membership is kept in a set


class KnowledgeGraph:
    def __init__(self, graph: nx.MultiDiGraph | None = None) -> None:
        self._g = graph if graph is not None else nx.MultiDiGraph()
        self._long_evidence: dict[tuple[str, str, str], set[str]] = {}  # chunk sets of edges with many chunks

    def add_node(self, node_id: str, node_type: str, label: str, **attrs: Any) -> None:
        if node_id in self._g:
            self._g.nodes[node_id].update(attrs)
        else:
            self._g.add_node(node_id, type=node_type, label=label, **attrs)

    def add_edge(self, source: str, target: str, edge_type: str, weight: float = 1.0, chunk: str = "", **attrs: Any) -> None:
        """Add an edge, or add ``weight`` to the existing edge of the same type (evidence accumulates)."""
        if self._g.has_edge(source, target, key=edge_type):
            data = self._g.edges[source, target, edge_type]
            data["weight"] += weight
            if chunk and self._is_new_evidence((source, target, edge_type), data["chunks"], chunk):
                data["chunks"].append(chunk)
            return
        self._g.add_edge(source, target, key=edge_type, type=edge_type, weight=weight, chunks=[chunk] if chunk else [], **attrs)

    def _is_new_evidence(self, edge: tuple[str, str, str], chunks: list[str], chunk: str) -> bool:
        """Whether ``chunk`` is not yet among the edge's ``chunks`` (and record it). An edge between two
        common entities gathers most chunks of the corpus: past a few, a set answers instead of a scan,
        which would make building the graph quadratic."""
        if len(chunks) < LONG_EVIDENCE:
            return chunk not in chunks
        seen = self._long_evidence.get(edge)
        if seen is None:
            seen = self._long_evidence[edge] = set(chunks)
        if chunk in seen:
            return False
        seen.add(chunk)
        return True

    def has_node(self, node_id: str) -> bool:
        return node_id in self._g

    def node(self, node_id: str) -> dict[str, Any]:
        return dict(self._g.nodes[node_id])

    def nodes(self, node_type: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        for node_id, data in self._g.nodes(data=True):
            if node_type is None or data.get("type") == node_type:
                yield node_id, data

    def edges(self, node_id: str | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Edges out of and into ``node_id`` (all edges when None)."""
        if node_id is None:
            yield from ((u, v, d) for u, v, d in self._g.edges(data=True))
            return
        yield from ((u, v, d) for u, v, d in self._g.out_edges(node_id, data=True))
        yield from ((u, v, d) for u, v, d in self._g.in_edges(node_id, data=True))

    def neighbours(self, node_id: str, edge_types: set[str] | None = None) -> list[tuple[str, str, float]]:
        """(neighbour, edge type, weight) in both directions, heaviest first."""
        if node_id not in self._g:
            return []
        found = [
            (v if u == node_id else u, d["type"], float(d["weight"]))
            for u, v, d in self.edges(node_id)
            if edge_types is None or d["type"] in edge_types
        ]
        return sorted(found, key=lambda x: -x[2])

    def number_of_nodes(self) -> int:
        return int(self._g.number_of_nodes())

    def number_of_edges(self) -> int:
        return int(self._g.number_of_edges())

    def save(self, path: Path) -> None:
        data = nx.node_link_data(self._g, edges="links")
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(orjson.dumps(data))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "KnowledgeGraph":
        data: dict[str, Any] = orjson.loads(path.read_bytes())
        return cls(nx.node_link_graph(data, directed=True, multigraph=True, edges="links"))
