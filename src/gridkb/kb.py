"""``KnowledgeBase``: the read handle on one generation of a built knowledge base.

It opens the generation being served when it is created and reads every file of it through
``storage.generation.Generation``, loading each index, model and table on first use. It holds no
global state; the application layer (search, answers, recommendation) and the services above it
read the knowledge base through it.
"""

from __future__ import annotations

import sqlite3
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gridkb.config import Settings
from gridkb.errors import ConfigError
from gridkb.organisation.classify import CategoryClassifier
from gridkb.organisation.taxonomy import Taxonomy
from gridkb.production.lexicon import Lexicon
from gridkb.production.normalize import normalize_query
from gridkb.privacy import contains_personal_data
from gridkb.records import Chunk, Classification, Conflict, DuplicateGroup
from gridkb.storage.bm25_index import Bm25Index
from gridkb.storage.embedders import EmbeddingCache, QueryVectorCache, create_embedder
from gridkb.storage.exact_index import ExactVectorIndex
from gridkb.storage.generation import FaqWording, Generation, GenerationFile, GenerationStats, Manifest
from gridkb.storage.layout import KbLayout

if TYPE_CHECKING:
    from gridkb.storage.chroma_index import ChromaVectorIndex
    from gridkb.storage.graph_store import KnowledgeGraph


QUERY_VECTOR_CACHE = 4096


class KbStats(GenerationStats):
    """The served generation's counts, as its manifest records them, and where it came from."""

    generation: str
    created: str
    embedder: str
    vector_store: str

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


class KnowledgeBase:
    """The read handle on one generation: the one being served when it was opened. It never changes
    under its reader; open a new instance to see a newer ingest. Raises KnowledgeBaseMissingError when
    nothing was built, GenerationError when the generation cannot be read."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.layout = KbLayout(settings.kb_dir)
        self.generation: Generation = self.layout.open_current()
        self.manifest: Manifest = self.generation.read_manifest()

    @property
    def directory(self) -> Path:
        return self.generation.directory

    def stats(self) -> KbStats:
        s, store = self.manifest.stats, self.manifest.vector_store
        return KbStats(
            **s.model_dump(),
            generation=self.manifest.generation,
            created=self.manifest.created,
            embedder=self.manifest.embedder.name,
            vector_store=store.mode + (f" ({store.url})" if store.url else ""),
        )

    @cached_property
    def lexicon(self) -> Lexicon:
        return Lexicon.load(self.settings.config_dir)

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return Taxonomy.from_config(self.settings.config_dir)

    @cached_property
    def classifier(self) -> CategoryClassifier:
        return CategoryClassifier.load(self.generation.path(GenerationFile.CLASSIFIER), self.taxonomy)

    @cached_property
    def organisation(self) -> dict[str, Any]:
        return self.generation.read_organisation()

    @property
    def duplicates(self) -> list[DuplicateGroup]:
        return [DuplicateGroup.from_dict(g) for g in self.organisation["duplicates"]]

    @property
    def conflicts(self) -> list[Conflict]:
        return [Conflict.from_dict(c) for c in self.organisation["conflicts"]]

    def classify_question(self, text: str) -> Classification:
        """Category, department and confidence of a customer's question ("unknown" when unsure)."""
        clean = normalize_query(text)
        if not clean:
            return Classification("unknown", "", 0.0)
        return self.classifier.classify(self.query_vector(clean), clean)

    def query_vector(self, text: str) -> np.ndarray:
        """The query embedding of ``text``, memoised: popular questions are asked again and again, and
        search, classification and the chat's ticket routing all need the same vector."""
        return self._query_vectors(text)

    def forget_query_vectors(self) -> None:
        """Empty the in-process memo (evaluation times every question cold)."""
        self._query_vectors.cache_clear()

    @cached_property
    def _query_vectors(self):  # type: ignore[no-untyped-def]
        return lru_cache(maxsize=QUERY_VECTOR_CACHE)(self._embed_query_shared)

    def _embed_query_shared(self, text: str) -> np.ndarray:
        """Through the on-disk cache the host's workers share; texts with personal data skip it."""
        if self._shared_query_cache is None or contains_personal_data(text):
            return self.embedder.embed_query(text)
        key = EmbeddingCache.key(self.embedder.name + "|query", text)
        vector = self._shared_query_cache.get(key)
        if vector is None:
            vector = self.embedder.embed_query(text)
            self._shared_query_cache.put(key, vector)
        return vector

    @cached_property
    def _shared_query_cache(self) -> QueryVectorCache | None:
        if not self.settings.shared_query_cache:
            return None
        try:
            return QueryVectorCache(self.layout.embedding_cache)
        except sqlite3.Error:  # a read-only knowledge-base directory: embed every time
            return None

    @cached_property
    def embedder(self):  # type: ignore[no-untyped-def]
        """The query embedder; it must be the model the knowledge base was built with."""
        embedder = create_embedder(self.settings)
        built_with = self.manifest.embedder.name
        if embedder.name != built_with:
            raise ConfigError(f"the knowledge base was built with '{built_with}' but the settings select '{embedder.name}': re-ingest or change GRIDKB_EMBEDDING_BACKEND")
        return embedder

    @cached_property
    def chunks(self) -> list[Chunk]:
        """All chunks in index-row order (BM25 rows and this list line up)."""
        return self.generation.read_chunks()

    @cached_property
    def chunk_by_id(self) -> dict[str, Chunk]:
        return {c.id: c for c in self.chunks}

    @cached_property
    def faq_wordings(self) -> list[FaqWording]:
        """Every FAQ wording (question and alternatives) in FAQ-index row order."""
        return self.generation.read_faq_wordings()

    @cached_property
    def bm25(self) -> Bm25Index:
        return Bm25Index.load(self.generation.path(GenerationFile.CHUNK_BM25), len(self.chunks))

    @cached_property
    def faq_bm25(self) -> Bm25Index:
        """Keyword index over ``faq_wordings`` (rows line up)."""
        return Bm25Index.load(self.generation.path(GenerationFile.FAQ_BM25), len(self.faq_wordings))

    @cached_property
    def bm25_vocabulary(self) -> set[str]:
        return self.bm25.vocabulary

    @cached_property
    def document_frequency(self) -> dict[str, int]:
        """How many chunks hold each search token."""
        return self.bm25.document_frequencies()

    @cached_property
    def graph(self) -> KnowledgeGraph:
        from gridkb.storage.graph_store import KnowledgeGraph  # networkx: only for commands that walk the graph

        return KnowledgeGraph.load(self.generation.path(GenerationFile.GRAPH))

    @cached_property
    def _chroma_client(self) -> Any:
        from gridkb.storage.chroma_index import open_client  # only when a command needs Chroma (0.5 s to import)

        return open_client(self.generation.path(GenerationFile.CHROMA), self.manifest.vector_store.server_url)

    @cached_property
    def vectors(self) -> ChromaVectorIndex:
        from gridkb.storage.chroma_index import ChromaVectorIndex

        return ChromaVectorIndex(self._chroma_client, self.manifest.vector_store.chunks, self.settings.chroma_search_ef, create=False)

    @cached_property
    def faq_vectors(self) -> ChromaVectorIndex:
        from gridkb.storage.chroma_index import ChromaVectorIndex

        return ChromaVectorIndex(self._chroma_client, self.manifest.vector_store.faq, self.settings.chroma_search_ef, create=False)

    @cached_property
    def exact_vectors(self) -> ExactVectorIndex | None:
        """Chunk vectors in memory, rows in ``chunks`` order; None when the index is too large."""
        ids = [c.id for c in self.chunks]
        matrix = self.generation.path(GenerationFile.CHUNK_VECTORS)
        if matrix.is_file():
            return ExactVectorIndex.read(matrix, ids, self.settings.exact_search_max_vectors)
        return self._exact(self.vectors, ids)

    @cached_property
    def exact_faq_vectors(self) -> ExactVectorIndex | None:
        """FAQ question vectors in memory; None when the index is too large."""
        matrix = self.generation.path(GenerationFile.FAQ_VECTORS)
        if matrix.is_file():
            return ExactVectorIndex.read(matrix, [w.id for w in self.faq_wordings], self.settings.exact_search_max_vectors)
        return self._exact(self.faq_vectors, None)

    def _exact(self, index: ChromaVectorIndex, order: list[str] | None) -> ExactVectorIndex | None:
        if index.count() > self.settings.exact_search_max_vectors:
            return None
        return ExactVectorIndex.load(index, order)
