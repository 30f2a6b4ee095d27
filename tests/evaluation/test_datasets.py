"""The committed evaluation sets: schemas, gold references that resolve, fact coverage."""

import re
from collections import Counter
from pathlib import Path

import pytest

from gridkb.evaluation.datasets import GoldIndex, load_dialogues, load_domain, load_unanswerable
from tests.conftest import ROOT

DATASETS = ROOT / "eval" / "datasets"
FACTS = Path(ROOT.parent / "shared" / "domain" / "facts.md")


@pytest.fixture(scope="module")
def domain():
    return load_domain(DATASETS / "domain_qa.jsonl")


def test_domain_questions_schema_and_size(domain):
    assert len(domain) >= 300
    assert len({q.id for q in domain}) == len(domain)
    splits = Counter(q.split for q in domain)
    assert splits["dev"] >= 100 and splits["test"] >= 150
    categories = {q.category for q in domain}
    assert len(categories) == 14


def test_every_gold_reference_resolves(domain):
    gold = GoldIndex(ROOT)
    problems = []
    for q in domain:
        for ref in q.gold:
            try:
                gold.resolve(ref)
            except KeyError as exc:
                problems.append(f"{q.id}: {exc}")
    assert not problems, problems[:10]


def test_key_phrases_occur_in_the_gold_text(domain):
    from gridkb.production.normalize import compact, normalize_line

    gold = GoldIndex(ROOT)
    missing = []
    for q in domain:
        text = "".join(gold.resolve(ref).text for ref in q.gold)
        for group in q.key_phrases:
            if not any(compact(normalize_line(alt)) in text for alt in group):
                missing.append((q.id, group))
    assert not missing, missing[:10]


@pytest.mark.skipif(not FACTS.exists(), reason="the facts sheet is in ../shared beside the project")
def test_every_fact_is_asked_at_least_twice(domain):
    facts = re.findall(r"^- (F\d{3})", FACTS.read_text(encoding="utf-8"), re.M)
    asked = Counter(f for q in domain for f in q.facts)
    assert len(facts) >= 70
    assert [f for f in facts if asked[f] < 2] == []
    assert set(asked) <= set(facts)


def test_unanswerable_and_multiturn_sets():
    for split in ("dev", "test"):
        unanswerable = load_unanswerable(DATASETS / "unanswerable.jsonl", split)
        assert len(unanswerable) >= 60
        kinds = Counter(u.kind for u in unanswerable)
        assert set(kinds) == {"out_of_scope", "not_in_corpus", "account_specific", "injection", "gibberish", "empty"}
    def wordings(split: str) -> set[str]:
        return {u.question.strip() for u in load_unanswerable(DATASETS / "unanswerable.jsonl", split) if u.kind != "empty"}

    assert not wordings("test") & wordings("dev")
    dialogues = load_dialogues(DATASETS / "multiturn.jsonl")
    assert len(dialogues) >= 30 and all(len(d.turns) >= 2 for d in dialogues)


def test_no_test_question_repeats_a_dev_question(domain):
    dev = {q.question for q in domain if q.split == "dev"}
    assert not [q.id for q in domain if q.split == "test" and q.question in dev]


@pytest.fixture(scope="module")
def real():
    from gridkb.evaluation.datasets import load_real

    return load_real(DATASETS / "real_phrasing.jsonl")


def test_real_phrasing_set_covers_every_kind_and_category(real):
    assert len(real) >= 200 and len({q.id for q in real}) == len(real)
    for split in ("dev", "test"):
        part = [q for q in real if q.split == split]
        assert sum(q.unanswerable for q in part) >= 30, split
        assert {q.asks for q in part} >= {"channel", "date", "price", "materials", "duration", "responsibility", "yes_no", "procedure", "definition"}
    assert sum(q.unanswerable for q in real) >= 60
    assert {q.category for q in real} >= {"billing", "payment", "connection", "change", "outage", "metering", "solar", "ev", "market",
                                          "value_added", "safety", "complaint", "channel"}
    assert all(q.must and q.facts for q in real if not q.unanswerable) and all(not q.must for q in real if q.unanswerable)
    dev = {q.q for q in real if q.split == "dev"}
    assert not [q.id for q in real if q.split == "test" and q.q in dev]
    assert sum(len(q.q) <= 15 for q in real) >= 0.6 * len(real)  # short, as customers type


def test_every_key_phrase_of_an_answerable_question_is_in_the_corpus(real):
    from gridkb.production.documents import load_document
    from gridkb.production.normalize import compact, normalize_line

    text = "".join(
        compact(normalize_line(load_document(path, 1 << 28).original_text))
        for path in sorted((ROOT / "corpus").rglob("*")) if path.is_file() and not path.name.endswith((".meta.yaml", "README.md"))
    )
    missing = [(q.id, group) for q in real if not q.unanswerable for group in q.must if not any(compact(normalize_line(a)) in text for a in group)]
    assert not missing, missing[:10]


def test_new_dialogues_label_follow_ups_and_topic_changes():
    dialogues = load_dialogues(DATASETS / "multiturn.jsonl")
    labelled = [t for d in dialogues for t in d.turns[1:] if t.follow_up is not None]
    assert sum(t.follow_up for t in labelled) >= 15 and sum(not t.follow_up for t in labelled) >= 12
    assert all(t.key_phrases for d in dialogues for t in d.turns if not t.unanswerable)
