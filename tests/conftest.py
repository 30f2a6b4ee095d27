"""Shared fixtures: one small session-scoped knowledge base built from tests/fixtures/mini_corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gridkb.config import Settings
from gridkb.production.lexicon import Lexicon
from gridkb.records import IngestReport

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = ROOT / "corpus" / "seeds"


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    return Lexicon.load(ROOT / "kb")


@pytest.fixture(scope="session")
def built_kb(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, IngestReport]:
    """(settings, corpus dir, report) of the mini corpus ingested once for the whole session. Read only."""
    from gridkb.ingest import ingest

    base = tmp_path_factory.mktemp("session_kb")
    corpus = base / "corpus"
    shutil.copytree(FIXTURES / "mini_corpus", corpus)
    settings = Settings(kb_dir=base / "kb", config_dir=ROOT / "kb", classifier_training=FIXTURES / "eval" / "mini_qa.jsonl")
    report = ingest([corpus], settings)
    return settings, corpus, report


@pytest.fixture()
def fresh_kb(tmp_path: Path) -> tuple[Settings, Path]:
    """A writable copy of the mini corpus and an empty kb directory; embeddings come from a shared cache."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "mini_corpus", corpus)
    return Settings(kb_dir=tmp_path / "kb", config_dir=ROOT / "kb", classifier_training=FIXTURES / "eval" / "mini_qa.jsonl"), corpus
