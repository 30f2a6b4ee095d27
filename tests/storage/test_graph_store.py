import time

from gridkb.storage.graph_store import KnowledgeGraph


def test_edges_accumulate_evidence_and_survive_a_round_trip(tmp_path):
    graph = KnowledgeGraph()
    graph.add_node("ent:核心职能层", "entity", "核心职能层")
    graph.add_node("ent:客户服务平台", "entity", "客户服务平台")
    graph.add_edge("ent:核心职能层", "ent:客户服务平台", "包含", chunk="c1")
    graph.add_edge("ent:核心职能层", "ent:客户服务平台", "包含", chunk="c2")
    graph.add_edge("ent:核心职能层", "ent:客户服务平台", "co_occurs", 2.0, chunk="c1")
    graph.save(tmp_path / "g.json")
    loaded = KnowledgeGraph.load(tmp_path / "g.json")
    assert loaded.number_of_nodes() == 2 and loaded.number_of_edges() == 2
    edges = {d["type"]: d for _, _, d in loaded.edges("ent:核心职能层")}
    assert edges["包含"]["weight"] == 2.0 and edges["包含"]["chunks"] == ["c1", "c2"]
    assert loaded.neighbours("ent:客户服务平台")[0] == ("ent:核心职能层", "包含", 2.0)


def test_large_graph_round_trip(tmp_path):
    graph = KnowledgeGraph()
    for i in range(20000):
        graph.add_node(f"chunk:{i}", "chunk", str(i))
        graph.add_edge(f"chunk:{i}", f"ent:{i % 300}", "mentions", chunk=str(i))
    graph.save(tmp_path / "g.json")
    started = time.perf_counter()
    loaded = KnowledgeGraph.load(tmp_path / "g.json")
    elapsed = time.perf_counter() - started
    assert loaded.number_of_edges() == 20000
    print(f"loaded 20k-edge graph in {elapsed:.2f}s")


def test_an_edge_with_much_evidence_keeps_each_chunk_once_in_order():
    graph = KnowledgeGraph()
    chunks = [f"c{i}" for i in range(100)]  # past LONG_EVIDENCE, membership moves to a set
    for chunk in chunks + chunks[::-1] + chunks[:40]:
        graph.add_edge("ent:95598", "ent:营业厅", "co_occurs", chunk=chunk)
    ((_, _, data),) = list(graph.edges("ent:95598"))
    assert data["chunks"] == chunks and data["weight"] == 240.0
