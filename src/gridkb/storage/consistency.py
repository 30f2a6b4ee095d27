"""Do the stores of one generation agree? The chunk table (``chunks.json`` and the per-document
records), BM25 (rows line up with the chunk table), the dense vectors (Chroma, whose embedded store is
SQLite, and the exact-search matrix) and the graph's chunk nodes must all name the same chunk ids.

Used after a crash (a killed ingest), by ``gridkb backup`` and ``gridkb restore``, and by the battery.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from gridkb.errors import GenerationError
from gridkb.storage.generation import Generation, GenerationFile, Manifest
from gridkb.storage.layout import KbLayout


@dataclass(frozen=True)
class ConsistencyReport:
    generation: str
    chunks: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_knowledge_base(kb_dir: Path) -> ConsistencyReport:
    """Check the generation being served; raises KnowledgeBaseMissingError when nothing was built."""
    return check_generation(KbLayout(kb_dir).require_current())


def check_generation(directory: Path) -> ConsistencyReport:
    """Compare the chunk ids of every store of a generation; each disagreement is one problem line."""
    generation = Generation(directory)
    try:
        manifest = generation.read_manifest()
        chunk_ids = [c["id"] for c in orjson.loads(generation.path(GenerationFile.CHUNKS).read_bytes())]
        faq_ids = [q["id"] for q in orjson.loads(generation.path(GenerationFile.FAQ_QUESTIONS).read_bytes())]
    except (GenerationError, OSError, orjson.JSONDecodeError, KeyError, TypeError) as error:
        return ConsistencyReport(directory.name, 0, (f"unreadable chunk table or manifest: {error}",))
    expected = set(chunk_ids)
    problems: list[str] = []
    if len(expected) != len(chunk_ids):
        problems.append(f"chunk table: {len(chunk_ids) - len(expected)} duplicate ids")
    if manifest.stats.chunks != len(chunk_ids):
        problems.append(f"manifest says {manifest.stats.chunks} chunks, the chunk table holds {len(chunk_ids)}")
    problems += _compare("records", expected, _record_chunk_ids(generation, manifest))
    problems += _compare("graph", expected, _graph_chunk_ids(generation))
    problems += _bm25_rows("bm25", generation.path(GenerationFile.CHUNK_BM25), len(chunk_ids))
    problems += _bm25_rows("bm25_faq", generation.path(GenerationFile.FAQ_BM25), len(faq_ids))
    problems += _matrix_rows(generation.path(GenerationFile.CHUNK_VECTORS), len(chunk_ids))
    problems += _matrix_rows(generation.path(GenerationFile.FAQ_VECTORS), len(faq_ids))
    problems += _chroma_problems(generation, manifest, expected, set(faq_ids))
    return ConsistencyReport(directory.name, len(chunk_ids), tuple(problems))


def _compare(store: str, expected: set[str], found: set[str] | str) -> list[str]:
    if isinstance(found, str):  # the store could not be read
        return [f"{store}: {found}"]
    missing, extra = expected - found, found - expected
    if not (missing or extra):
        return []
    return [f"{store}: {len(missing)} chunk ids missing (e.g. {sorted(missing)[:2]}), {len(extra)} unknown (e.g. {sorted(extra)[:2]})"]


def _record_chunk_ids(generation: Generation, manifest: Manifest) -> set[str] | str:
    ids: set[str] = set()
    try:
        for entry in manifest.documents.values():
            record = orjson.loads(generation.record_path(entry.id).read_bytes())
            ids.update(c["id"] for c in record["chunks"])
    except (OSError, orjson.JSONDecodeError, KeyError) as error:
        return f"unreadable: {error}"
    return ids


def _graph_chunk_ids(generation: Generation) -> set[str] | str:
    try:
        nodes = orjson.loads(generation.path(GenerationFile.GRAPH).read_bytes())["nodes"]
    except (OSError, orjson.JSONDecodeError, KeyError) as error:
        return f"unreadable: {error}"
    return {n["id"].removeprefix("chunk:") for n in nodes if n.get("type") == "chunk"}


def _bm25_rows(store: str, folder: Path, expected: int) -> list[str]:
    try:
        rows = int(orjson.loads((folder / "params.index.json").read_bytes())["num_docs"])
    except (OSError, orjson.JSONDecodeError, KeyError, ValueError) as error:
        return [f"{store}: unreadable: {error}"]
    # an empty corpus is indexed as one placeholder row (see Bm25Index.build)
    return [] if rows == expected or (expected == 0 and rows == 1) else [f"{store}: {rows} rows for {expected} entries"]


def _matrix_rows(path: Path, expected: int) -> list[str]:
    if not path.is_file():  # only small knowledge bases keep one
        return []
    try:
        rows = int(np.load(path, mmap_mode="r").shape[0])
    except (OSError, ValueError) as error:
        return [f"{path.name}: unreadable: {error}"]
    return [] if rows == expected else [f"{path.name}: {rows} rows for {expected} entries"]


def _chroma_problems(generation: Generation, manifest: Manifest, chunk_ids: set[str], faq_ids: set[str]) -> list[str]:
    from gridkb.storage.chroma_index import open_client  # chromadb takes half a second to import

    store = manifest.vector_store
    server = store.server_url
    chroma_dir = generation.path(GenerationFile.CHROMA)
    problems: list[str] = []
    if server is None:
        problems += sqlite_integrity(chroma_dir / "chroma.sqlite3", "chroma")
        if problems:
            return problems
    try:
        client = open_client(chroma_dir if server is None else None, server)
        for name, expected in ((store.chunks, chunk_ids), (store.faq, faq_ids)):
            problems += _compare(f"chroma {name}", expected, set(client.get_collection(name, embedding_function=None).get(include=[])["ids"]))
    except Exception as error:  # chromadb raises many kinds; each means the vectors cannot be served
        problems.append(f"chroma: {type(error).__name__}: {error}")
    return problems


def sqlite_integrity(path: Path, name: str) -> list[str]:
    """``PRAGMA integrity_check`` of a SQLite file: its complaints, or none."""
    if not path.is_file():
        return [f"{name}: {path.name} is missing"]
    try:
        connection = sqlite3.connect(path)
    except sqlite3.Error as error:
        return [f"{name}: {error}"]
    try:
        rows = [r[0] for r in connection.execute("PRAGMA integrity_check")]
    except sqlite3.Error as error:
        return [f"{name}: {error}"]
    finally:
        connection.close()
    return [] if rows == ["ok"] else [f"{name}: integrity_check: {'; '.join(rows[:3])}"]
