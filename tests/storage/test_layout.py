"""Which configuration a built knowledge base answers with (never the working directory's)."""

from pathlib import Path

import orjson

from gridkb.storage.layout import CONFIG_SNAPSHOT, KbLayout


def _generation(kb_dir: Path, manifest: dict) -> Path:
    generation = kb_dir / "generations" / "g1"
    (generation / CONFIG_SNAPSHOT).mkdir(parents=True)
    (generation / "manifest.json").write_bytes(orjson.dumps(manifest))
    (kb_dir / "CURRENT").write_text("g1", encoding="utf-8")
    return generation


def test_the_folder_it_was_built_from_while_it_exists(tmp_path: Path):
    source = tmp_path / "operators-config"
    source.mkdir()
    _generation(tmp_path / "kb", {"config": {"source": str(source)}})
    assert KbLayout(tmp_path / "kb").built_config_dir() == source


def test_its_own_copy_once_that_folder_is_gone(tmp_path: Path):
    generation = _generation(tmp_path / "kb", {"config": {"source": str(tmp_path / "deleted")}})
    assert KbLayout(tmp_path / "kb").built_config_dir() == generation / CONFIG_SNAPSHOT


def test_nothing_for_an_old_generation_or_no_build(tmp_path: Path):
    assert KbLayout(tmp_path / "empty").built_config_dir() is None
    generation = _generation(tmp_path / "kb", {"generation": "g1"})
    (generation / CONFIG_SNAPSHOT).rmdir()
    assert KbLayout(tmp_path / "kb").built_config_dir() is None
