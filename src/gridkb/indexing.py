"""Build a generation's indexes from its records: chunk table, BM25, dense vectors (chunks and FAQ
questions) in Chroma. Vectors come through the embedding cache, so only new text is embedded."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from gridkb.config import Settings
from gridkb.organisation.organise import Organisation, organise
from gridkb.organisation.taxonomy import Taxonomy
from gridkb.production.lexicon import Lexicon
from gridkb.records import Chunk
from gridkb.storage.bm25_index import Bm25Index
from gridkb.storage.chroma_index import ChromaVectorIndex, drop_collection, list_collections, open_client
from gridkb.storage.embedders import CachedEmbedder
from gridkb.storage.exact_index import ExactVectorIndex
from gridkb.storage.layout import CHUNK_VECTORS_FILE, CHUNKS_FILE, FAQ_QUESTIONS_FILE, FAQ_VECTORS_FILE, NO_END, date_number

if TYPE_CHECKING:
    from gridkb.ingest import DocRecord, Progress


def chunk_metadata(chunk: Chunk) -> dict[str, str | int | float | bool]:
    return {
        "doc_id": chunk.doc_id,
        "kind": chunk.kind.value,
        "audience": chunk.audience.value,
        "category": chunk.category,
        "valid_from": date_number(chunk.valid_from, 0),
        "valid_to": date_number(chunk.valid_to, NO_END),
    }


@dataclass
class Built:
    embed_seconds: float
    embedder_name: str
    dim: int
    vector_store: dict[str, str]
    organisation: Organisation
    organise_seconds: float = 0.0


def collection_names(kb_id: str, generation: str) -> tuple[str, str]:
    safe = generation.replace("T", "t").lower()
    return f"gridkb-{kb_id}-{safe}-chunks", f"gridkb-{kb_id}-{safe}-faq"


def build(
    kb_id: str,
    staging: Path,
    settings: Settings,
    lexicon: Lexicon,
    embedder: CachedEmbedder,
    records: Sequence["DocRecord"],
    progress: "Progress",
) -> Built:
    chunks = [c for r in records for c in r.chunks]
    all_questions = [
        (f"{faq.id}:{n}", text, faq.id)
        for r in records
        for faq in r.document.faqs
        for n, text in enumerate((faq.question, *faq.similar))
    ]
    progress.start("embed", len(chunks) + len(all_questions))
    t0 = time.perf_counter()
    chunk_vectors = embedder.embed_passages([c.index_text for c in chunks], progress=lambda n: progress.advance("embed", n))
    all_question_vectors = embedder.embed_passages([t for _, t, _ in all_questions], progress=lambda n: progress.advance("embed", n))
    embed_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    progress.start("organise", 1)
    taxonomy = Taxonomy.from_config(settings.config_dir)
    organisation = organise(
        [r.document for r in records], chunks, chunk_vectors, lexicon, taxonomy, embedder, settings.classifier_training, date.today(), staging
    )
    organise_seconds = time.perf_counter() - t1
    progress.advance("organise")
    progress.start("index", 1)
    chunks = organisation.chunks
    chunk_by_faq = {c.faq_id: c for c in chunks if c.faq_id}
    keep = [i for i, (_, _, f) in enumerate(all_questions) if f in chunk_by_faq]
    questions = [all_questions[i] for i in keep]
    question_vectors = all_question_vectors[keep] if keep else all_question_vectors[:0]
    (staging / CHUNKS_FILE).write_bytes(orjson.dumps([c.to_dict() for c in chunks]))
    (staging / FAQ_QUESTIONS_FILE).write_bytes(orjson.dumps([{"id": i, "text": t, "faq_id": f} for i, t, f in questions]))
    Bm25Index.build([lexicon.tokenize(c.index_text) for c in chunks]).save(staging / "bm25")
    Bm25Index.build([lexicon.tokenize(t) for _, t, _ in questions]).save(staging / "bm25_faq")

    generation = staging.name.removeprefix(".staging-")
    chunk_collection, faq_collection = collection_names(kb_id, generation)
    client = open_client(staging / "chroma", settings.chroma_url)
    ChromaVectorIndex(client, chunk_collection, settings.chroma_search_ef).add(
        [c.id for c in chunks], chunk_vectors, [chunk_metadata(c) for c in chunks]
    )
    ChromaVectorIndex(client, faq_collection, settings.chroma_search_ef).add(
        [i for i, _, _ in questions],
        question_vectors,
        [{**chunk_metadata(chunk_by_faq[f]), "faq_id": f} for _, _, f in questions],
    )
    if len(chunks) <= settings.exact_search_max_vectors:
        ExactVectorIndex.save(staging / CHUNK_VECTORS_FILE, chunk_vectors)
        ExactVectorIndex.save(staging / FAQ_VECTORS_FILE, question_vectors)
    progress.advance("index")
    store = {"mode": "server" if settings.chroma_url else "embedded", "chunks": chunk_collection, "faq": faq_collection}
    if settings.chroma_url:
        store["url"] = settings.chroma_url
    return Built(embed_seconds, embedder.name, embedder.dim, store, organisation, organise_seconds)


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
