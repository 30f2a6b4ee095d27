"""Build a generation's indexes: embed chunks and FAQ wordings (through the embedding cache, so only new
text is embedded), organise, then write the chunk table, BM25 and the dense vectors (Chroma, and the
exact-search matrices of a small knowledge base) through the ``Generation``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from gridkb.config import Settings
from gridkb.organisation.organise import Organisation, organise
from gridkb.organisation.taxonomy import Taxonomy
from gridkb.production.lexicon import Lexicon
from gridkb.records import Chunk, Document
from gridkb.storage.bm25_index import Bm25Index
from gridkb.storage.chroma_index import ChromaVectorIndex, drop_collection, list_collections, open_client
from gridkb.storage.embedders import CachedEmbedder
from gridkb.storage.exact_index import ExactVectorIndex
from gridkb.storage.generation import EmbedderInfo, FaqWording, Generation, GenerationFile, VectorStoreInfo, chunk_metadata


class Progress(Protocol):
    """What the build pipeline tells a progress display (the CLI's progress bar, an upload job, or nothing)."""

    def start(self, stage: str, total: int) -> None: ...

    def advance(self, stage: str, amount: int = 1) -> None: ...


class Silent:
    """The progress display that shows nothing."""

    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self, stage: str, amount: int = 1) -> None:
        pass


@dataclass
class Built:
    embed_seconds: float
    embedder: EmbedderInfo
    vector_store: VectorStoreInfo
    organisation: Organisation
    organise_seconds: float = 0.0


def collection_names(kb_id: str, generation: str) -> tuple[str, str]:
    safe = generation.replace("T", "t").lower()
    return f"gridkb-{kb_id}-{safe}-chunks", f"gridkb-{kb_id}-{safe}-faq"


def faq_wordings(documents: Sequence[Document]) -> list[FaqWording]:
    """Every way of asking each FAQ of ``documents``: its question, then its alternatives."""
    return [
        FaqWording(f"{faq.id}:{n}", text, faq.id)
        for document in documents
        for faq in document.faqs
        for n, text in enumerate((faq.question, *faq.similar))
    ]


def build(
    kb_id: str,
    generation: Generation,
    settings: Settings,
    lexicon: Lexicon,
    embedder: CachedEmbedder,
    documents: Sequence[Document],
    chunks: Sequence[Chunk],
    progress: Progress,
) -> Built:
    """Embed, organise and index ``chunks`` (of ``documents``, in order) into ``generation``."""
    all_wordings = faq_wordings(documents)
    progress.start("embed", len(chunks) + len(all_wordings))
    t0 = time.perf_counter()
    chunk_vectors = embedder.embed_passages([c.index_text for c in chunks], progress=lambda n: progress.advance("embed", n))
    all_wording_vectors = embedder.embed_passages([w.text for w in all_wordings], progress=lambda n: progress.advance("embed", n))
    embed_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    progress.start("organise", 1)
    taxonomy = Taxonomy.from_config(settings.config_dir)
    organisation = organise(
        documents, list(chunks), chunk_vectors, lexicon, taxonomy, embedder, settings.classifier_training, date.today(), generation
    )
    organise_seconds = time.perf_counter() - t1
    progress.advance("organise")
    progress.start("index", 1)
    organised = organisation.chunks
    chunk_by_faq = {c.faq_id: c for c in organised if c.faq_id}
    keep = [i for i, w in enumerate(all_wordings) if w.faq_id in chunk_by_faq]
    wordings = [all_wordings[i] for i in keep]
    wording_vectors = all_wording_vectors[keep] if keep else all_wording_vectors[:0]
    generation.write_chunks(organised)
    generation.write_faq_wordings(wordings)
    Bm25Index.build([lexicon.tokenize(c.index_text) for c in organised]).save(generation.path(GenerationFile.CHUNK_BM25))
    Bm25Index.build([lexicon.tokenize(w.text) for w in wordings]).save(generation.path(GenerationFile.FAQ_BM25))
    store = _write_vectors(kb_id, generation, settings, organised, chunk_vectors, wordings, wording_vectors, chunk_by_faq)
    progress.advance("index")
    return Built(embed_seconds, EmbedderInfo(name=embedder.name, dim=embedder.dim), store, organisation, organise_seconds)


def _write_vectors(
    kb_id: str,
    generation: Generation,
    settings: Settings,
    chunks: Sequence[Chunk],
    chunk_vectors: np.ndarray,
    wordings: Sequence[FaqWording],
    wording_vectors: np.ndarray,
    chunk_by_faq: dict[str, Chunk],
) -> VectorStoreInfo:
    """Chroma collections for chunks and FAQ wordings, and the in-memory search matrices when small enough."""
    chunk_collection, faq_collection = collection_names(kb_id, generation.name)
    client = open_client(generation.path(GenerationFile.CHROMA), settings.chroma_url)
    exact = len(chunks) <= settings.exact_search_max_vectors  # then the matrices answer dense search, not Chroma
    ChromaVectorIndex(client, chunk_collection, settings.chroma_search_ef, searched=not exact).add(
        [c.id for c in chunks], chunk_vectors, [chunk_metadata(c) for c in chunks]
    )
    ChromaVectorIndex(client, faq_collection, settings.chroma_search_ef, searched=not exact).add(
        [w.id for w in wordings],
        wording_vectors,
        [{**chunk_metadata(chunk_by_faq[w.faq_id]), "faq_id": w.faq_id} for w in wordings],
    )
    if exact:
        ExactVectorIndex.save(generation.path(GenerationFile.CHUNK_VECTORS), chunk_vectors)
        ExactVectorIndex.save(generation.path(GenerationFile.FAQ_VECTORS), wording_vectors)
    return VectorStoreInfo(
        mode="server" if settings.chroma_url else "embedded", chunks=chunk_collection, faq=faq_collection, url=settings.chroma_url or None
    )


def drop_stale_collections(settings: Settings, kb_id: str, live_generations: Sequence[str]) -> list[str]:
    """On a Chroma server, drop the collections of generations that no longer exist on disk."""
    if not settings.chroma_url:
        return []
    client = open_client(None, settings.chroma_url)
    live = {name for g in live_generations for name in collection_names(kb_id, g)}
    stale = [c for c in list_collections(client) if c.startswith(f"gridkb-{kb_id}-") and c not in live]
    for name in stale:
        drop_collection(client, name)
    return stale
