"""Dense vectors in Chroma: an embedded persistent client by default, a Chroma server when
``GRIDKB_CHROMA_URL`` is set. gridkb always passes its own vectors (Chroma's default embedding
function would download a model) and turns telemetry off.

Only one process may write an embedded Chroma directory (two writers corrupt it silently): the
ingest builds a new generation aside, and servers with several workers use the Chroma server.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from gridkb.errors import BackendUnavailableError

logging.getLogger("chromadb.telemetry").setLevel(logging.CRITICAL)

Metadata = dict[str, str | int | float | bool]


# The HNSW graph Chroma builds as vectors are added. When Chroma answers dense search, a dense graph
# for recall (Chroma's defaults find ~60 % of the true top-10 here). When gridkb's exact matrix
# answers it (up to ``Settings.exact_search_max_vectors`` chunks), Chroma only stores the vectors and
# their metadata, its graph is never searched, and a sparse one builds 4–6 times faster (20,000
# vectors: 12 s against 50–70 s on this machine).
SEARCHED_GRAPH = {"ef_construction": 200, "max_neighbors": 32}
STORAGE_GRAPH = {"ef_construction": 32, "max_neighbors": 8}


def _chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def open_client(path: Path | None, url: str | None) -> Any:
    """A Chroma client: HTTP when ``url`` is given, else an embedded persistent one at ``path``."""
    if url:
        parsed = urlparse(url)
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or 8000,
                ssl=parsed.scheme == "https",
                settings=_chroma_settings(),
            )
            client.heartbeat()
        except Exception as exc:  # the client raises several transport errors
            raise BackendUnavailableError(f"Chroma server at {url} does not answer: {exc}") from None
        return client
    if path is None:
        raise ValueError("an embedded Chroma needs a directory")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


class ChromaVectorIndex:
    """One Chroma collection with cosine distance and a raised HNSW ``ef_search`` for recall.

    ``searched=False`` creates it with the sparse graph of a collection only stored (see above)."""

    def __init__(self, client: Any, name: str, search_ef: int = 200, create: bool = True, searched: bool = True) -> None:
        self._client = client
        self.name = name
        graph = SEARCHED_GRAPH if searched else STORAGE_GRAPH
        configuration = {"hnsw": {"space": "cosine", "ef_search": search_ef, **graph}}
        if create:
            self._collection = client.get_or_create_collection(name, configuration=configuration, embedding_function=None)
        else:
            self._collection = client.get_collection(name, embedding_function=None)
        self._count: int | None = None  # cached: a served generation is read-only; writes reset it

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Metadata]) -> None:
        if not ids:
            return
        batch = 1000
        try:
            batch = min(batch, int(self._client.get_max_batch_size()))
        except Exception:  # older servers have no such call
            pass
        for start in range(0, len(ids), batch):
            end = start + batch
            self._count = None
            self._collection.upsert(
                ids=list(ids[start:end]),
                embeddings=np.asarray(vectors[start:end], dtype=np.float32),
                metadatas=list(metadatas[start:end]) or None,
            )

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self._count = None
            self._collection.delete(ids=list(ids))

    def search(self, vector: np.ndarray, k: int, where: dict[str, object] | None = None) -> list[tuple[str, float]]:
        total = self.count()
        if total == 0:
            return []
        result = self._collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(k, total),
            where=where or None,
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = result["distances"][0] if result.get("distances") else [1.0] * len(ids)
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances)]

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        result = self._collection.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(result["ids"], result["embeddings"])}

    def all_vectors(self, batch: int = 5000) -> tuple[list[str], np.ndarray]:
        """Every (id, vector) of the collection, read in pages."""
        ids: list[str] = []
        pages: list[np.ndarray] = []
        for offset in range(0, self.count(), batch):
            page = self._collection.get(include=["embeddings"], limit=batch, offset=offset)
            ids.extend(page["ids"])
            pages.append(np.asarray(page["embeddings"], dtype=np.float32))
        return ids, (np.concatenate(pages) if pages else np.zeros((0, 0), dtype=np.float32))

    def count(self) -> int:
        if self._count is None:
            self._count = int(self._collection.count())
        return self._count


def drop_collection(client: Any, name: str) -> None:
    try:
        client.delete_collection(name)
    except Exception:  # already gone: nothing to drop
        pass


def list_collections(client: Any) -> list[str]:
    return [c if isinstance(c, str) else c.name for c in client.list_collections()]
