"""Which configuration a built knowledge base answers with (never the working directory's)."""

import re
from pathlib import Path

from gridkb.storage.generation import ConfigSnapshot, Generation, GenerationFile
from gridkb.storage.layout import KbLayout
from tests.storage.test_generation import sample_manifest


def _generation(kb_dir: Path, config: ConfigSnapshot | None) -> Path:
    generation = Generation(kb_dir / "generations" / "g1")
    generation.path(GenerationFile.CONFIG).mkdir(parents=True)
    generation.write_manifest(sample_manifest("g1", config))
    (kb_dir / "CURRENT").write_text("g1", encoding="utf-8")
    return generation.directory


def test_the_folder_it_was_built_from_while_it_exists(tmp_path: Path):
    source = tmp_path / "operators-config"
    source.mkdir()
    _generation(tmp_path / "kb", ConfigSnapshot(source=str(source)))
    assert KbLayout(tmp_path / "kb").built_config_dir() == source


def test_its_own_copy_once_that_folder_is_gone(tmp_path: Path):
    generation = _generation(tmp_path / "kb", ConfigSnapshot(source=str(tmp_path / "deleted")))
    assert KbLayout(tmp_path / "kb").built_config_dir() == generation / "config"


def test_nothing_for_an_old_generation_or_no_build(tmp_path: Path):
    assert KbLayout(tmp_path / "empty").built_config_dir() is None
    generation = _generation(tmp_path / "kb", None)
    (generation / "config").rmdir()
    assert KbLayout(tmp_path / "kb").built_config_dir() is None


def test_nothing_for_a_generation_this_gridkb_cannot_read(tmp_path: Path):
    generation = _generation(tmp_path / "kb", ConfigSnapshot(source=str(tmp_path)))
    (generation / "manifest.json").write_text('{"version": 2}', encoding="utf-8")
    assert KbLayout(tmp_path / "kb").built_config_dir() is None


# what a served knowledge base writes beside its configuration (see .gitignore): not configuration
RUNTIME_FILES = re.compile(r"-admin\.key$|-service\.sqlite|\.migrate\.lock$")


def test_the_copy_holds_every_file_of_the_configuration(built_kb):
    """What the answer path reads (the gazetteer places.tsv too) is in the generation's own copy."""
    settings, _, _ = built_kb
    copy = Generation(KbLayout(settings.kb_dir).current()).path(GenerationFile.CONFIG)
    configuration = {
        p.name for p in settings.config_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and not RUNTIME_FILES.search(p.name)
    }
    assert configuration <= {p.name for p in copy.iterdir()}
