"""Settings resolve their defaults from the knowledge base or the package, never from the working directory."""

import os
from pathlib import Path

from gridkb.config import CLASSIFIER_TRAINING_DIR, CLASSIFIER_TRAINING_FILE, Settings, bundled_config_dir
from gridkb.organisation.organise import labelled_dev_questions
from tests.conftest import ROOT


def test_without_a_build_the_package_configuration_is_used(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("GRIDKB_")]:
        monkeypatch.delenv(name)
    settings = Settings(kb_dir=tmp_path / "kb")
    assert settings.config_dir == bundled_config_dir()
    assert (settings.config_dir / "taxonomy.yaml").read_bytes() == (ROOT / "kb" / "taxonomy.yaml").read_bytes()
    # the classifier learns from the staff's domain questions and the customers' phrasings, dev splits only
    assert settings.classifier_training == settings.config_dir / CLASSIFIER_TRAINING_DIR
    labelled = dict(labelled_dev_questions(settings.classifier_training))
    assert labelled["第一档电价多少钱一度"] == "billing"  # a staff question (domain set, "question")
    assert labelled["电费怎么比去年同期贵了一百多我家用电习惯也没变啊是不是电价涨了"] == "billing"  # a customer's ("q")
    assert "电费咋算的 阶梯是几档啊" not in labelled and "湖南丰水期电费是不是便宜点" not in labelled  # test splits


def test_a_built_knowledge_base_answers_with_its_own_configuration(built_kb, monkeypatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRIDKB_CONFIG_DIR", raising=False)
    settings, _, _ = built_kb
    assert Settings(kb_dir=settings.kb_dir).config_dir == settings.config_dir.resolve()


def test_an_explicit_folder_wins(tmp_path: Path):
    assert Settings(kb_dir=tmp_path, config_dir=tmp_path / "mine").config_dir == tmp_path / "mine"
    assert Settings(kb_dir=tmp_path, config_dir=tmp_path / "mine").classifier_training == tmp_path / "mine" / CLASSIFIER_TRAINING_FILE
