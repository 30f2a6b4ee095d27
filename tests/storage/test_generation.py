"""A generation owns its files and a typed, versioned manifest; what it cannot read it refuses clearly."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gridkb.errors import GenerationError, KnowledgeBaseMissingError
from gridkb.records import Audience, Chunk, ChunkKind
from gridkb.storage.generation import (
    MANIFEST_VERSION,
    ConfigSnapshot,
    DocumentEntry,
    EmbedderInfo,
    FaqWording,
    Generation,
    GenerationFile,
    GenerationStats,
    Manifest,
    VectorStoreInfo,
)
from gridkb.storage.layout import KbLayout


def sample_manifest(name: str = "20250101T000000-abcdef", config: ConfigSnapshot | None = None) -> Manifest:
    return Manifest(
        generation=name,
        created="2025-01-01T00:00:00+0800",
        fingerprint="0123456789abcdef",
        embedder=EmbedderInfo(name="hashing-256", dim=256),
        vector_store=VectorStoreInfo(mode="embedded", chunks="gridkb-x-chunks", faq="gridkb-x-faq"),
        stats=GenerationStats(documents=1, chunks=2, faqs=1, terms=0, entities=3, graph_nodes=9, graph_edges=8),
        config=config,
        documents={
            "corpus/停电报修.txt": DocumentEntry(
                id="d1", path="/data/corpus/停电报修.txt", content_hash="h1", title="停电报修", format="txt",
                audience=Audience.PUBLIC, chunks=2, faqs=1,
            )
        },
    )


def _chunk(chunk_id: str, kind: ChunkKind = ChunkKind.TEXT) -> Chunk:
    return Chunk(chunk_id, "d1", "corpus/停电报修.txt", kind, ("停电报修", "报修渠道"), "拨打 95598 报修。", 0, Audience.PUBLIC,
                 valid_from="2024-01-01", category="fault")


def _write_raw_manifest(generation: Generation, raw: object) -> None:
    generation.directory.mkdir(parents=True, exist_ok=True)
    generation.path(GenerationFile.MANIFEST).write_bytes(orjson.dumps(raw))


def test_a_manifest_reads_back_as_written_with_its_version(tmp_path: Path):
    generation = Generation(tmp_path / "g1")
    generation.directory.mkdir()
    manifest = sample_manifest(config=ConfigSnapshot(source=None, classifier_training="/kb/qa.jsonl", files=("taxonomy.yaml",)))
    generation.write_manifest(manifest)
    assert generation.read_manifest() == manifest
    on_disk = orjson.loads(generation.path(GenerationFile.MANIFEST).read_bytes())
    assert on_disk["version"] == MANIFEST_VERSION == 1
    assert on_disk["documents"]["corpus/停电报修.txt"]["audience"] == "public"


def test_a_manifest_written_before_versions_reads_as_version_1(tmp_path: Path):
    generation = Generation(tmp_path / "g1")
    legacy = sample_manifest().model_dump(mode="json")
    del legacy["version"], legacy["config"]  # as the first builds wrote it
    legacy["vector_store"].pop("url")
    _write_raw_manifest(generation, legacy)
    manifest = generation.read_manifest()
    assert manifest.version == 1 and manifest.config is None
    assert manifest.documents["corpus/停电报修.txt"].path == "/data/corpus/停电报修.txt"


def test_a_missing_manifest_is_refused_with_the_way_out(tmp_path: Path):
    generation = Generation(tmp_path / "g1")
    generation.directory.mkdir()
    assert not generation.is_complete()
    with pytest.raises(GenerationError, match="has no manifest.json.*gridkb ingest"):
        generation.read_manifest()


def test_an_unknown_version_is_refused_naming_both_versions(tmp_path: Path):
    generation = Generation(tmp_path / "g1")
    _write_raw_manifest(generation, sample_manifest().model_dump(mode="json") | {"version": 99})
    with pytest.raises(GenerationError, match="manifest version 99 but this gridkb reads version 1"):
        generation.read_manifest()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[1, 2]", "not a manifest"),
        ("{not json", "cannot be read"),
        ('{"version": 1, "generation": "g1"}', "created: Field required"),
    ],
)
def test_a_malformed_manifest_is_refused_saying_what_is_wrong(tmp_path: Path, raw: str, message: str):
    generation = Generation(tmp_path / "g1")
    generation.directory.mkdir()
    generation.path(GenerationFile.MANIFEST).write_text(raw, encoding="utf-8")
    with pytest.raises(GenerationError, match=message):
        generation.read_manifest()


def test_a_generation_lists_the_files_written_through_it(tmp_path: Path):
    generation = Generation(tmp_path / "g1")
    generation.directory.mkdir()
    assert generation.files() == {}
    chunks = [_chunk("c1"), _chunk("c2", ChunkKind.FAQ)]
    wordings = [FaqWording("f1:0", "怎么报修？", "f1"), FaqWording("f1:1", "停电了找谁", "f1")]
    generation.write_record("d1", b'{"document": {}}')
    generation.write_chunks(chunks)
    generation.write_faq_wordings(wordings)
    generation.write_organisation({"duplicates": [], "conflicts": [], "related": [["c1", "c2", 0.91]]})
    generation.write_manifest(sample_manifest())
    assert generation.files() == {
        part: tmp_path / "g1" / name
        for part, name in [
            (GenerationFile.MANIFEST, "manifest.json"),
            (GenerationFile.RECORDS, "records"),
            (GenerationFile.CHUNKS, "chunks.json"),
            (GenerationFile.FAQ_QUESTIONS, "faq_questions.json"),
            (GenerationFile.ORGANISATION, "organisation.json"),
        ]
    }
    assert generation.read_chunks() == chunks
    assert generation.read_faq_wordings() == wordings
    assert generation.read_record("d1") == b'{"document": {}}' and generation.read_record("d2") is None
    assert generation.read_organisation()["related"] == [["c1", "c2", 0.91]]


def test_a_staging_build_is_invisible_until_published(tmp_path: Path):
    layout = KbLayout(tmp_path / "kb")
    staging = layout.new_staging()
    assert staging.directory.name.startswith(".staging-") and not staging.name.startswith(".")
    staging.write_manifest(sample_manifest(staging.name))
    with pytest.raises(KnowledgeBaseMissingError):
        layout.open_current()
    published = layout.publish(staging)
    assert published.name == staging.name and not staging.directory.exists()
    assert layout.open_current().read_manifest().generation == staging.name


def test_the_built_knowledge_base_is_read_through_its_generation(built_kb):
    settings, _, report = built_kb
    generation = KbLayout(settings.kb_dir).open_current()
    manifest = generation.read_manifest()
    assert generation.name == report.generation == manifest.generation
    assert manifest.stats.chunks == len(generation.read_chunks()) == report.chunks
    assert {w.faq_id for w in generation.read_faq_wordings()} <= {c.faq_id for c in generation.read_chunks()}
    expected = set(GenerationFile) - {GenerationFile.CHROMA} if manifest.vector_store.mode == "server" else set(GenerationFile)
    assert set(generation.files()) == expected
    assert all(generation.read_record(entry.id) is not None for entry in manifest.documents.values())
