"""Evaluation datasets: schemas, loading, gold resolution, and the external reading-comprehension sets.

Domain questions cite their gold as (document path, section title); ``GoldIndex`` parses every cited
document with the production loaders once and resolves a title to the text of that section and
everything under it, so retrieved passages from any system can be judged by what they contain.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from gridkb.errors import EvaluationError
from gridkb.production.documents import load_document
from gridkb.production.normalize import compact, normalize_line
from gridkb.production.structure import build_sections

Split = Literal["dev", "test"]


class GoldRef(BaseModel):
    doc: str
    section: str


class DomainQuestion(BaseModel):
    id: str
    question: str
    split: Split
    category: str
    facts: list[str] = Field(min_length=1)
    gold: list[GoldRef] = Field(min_length=1)
    key_phrases: list[list[str]] = Field(min_length=1)
    style: str = ""

    @field_validator("key_phrases")
    @classmethod
    def _groups_not_empty(cls, groups: list[list[str]]) -> list[list[str]]:
        if any(not g for g in groups):
            raise ValueError("every key-phrase group needs at least one alternative")
        return groups


class UnanswerableQuestion(BaseModel):
    id: str
    question: str
    split: Split
    kind: Literal["out_of_scope", "not_in_corpus", "account_specific", "injection", "gibberish", "empty"]


class RealQuestion(BaseModel):
    """A question as customers type it (``real_phrasing.jsonl``, and ``../shared``'s real queries):
    its key phrases, or ``unanswerable`` when the knowledge base must decline."""

    id: str
    q: str
    split: Split = "dev"  # the shared development set has no split: all of it is dev
    category: str
    asks: str = "other"  # the kind of information wanted
    customer_type: str = ""
    facts: list[str] = Field(default_factory=list)
    must: list[list[str]] = Field(default_factory=list)
    unanswerable: bool
    needs_new_facts: bool = False

    @field_validator("must")
    @classmethod
    def _groups_not_empty(cls, groups: list[list[str]]) -> list[list[str]]:
        if any(not g for g in groups):
            raise ValueError("every key-phrase group needs at least one alternative")
        return groups


class DialogueTurn(BaseModel):
    user: str
    category: str
    facts: list[str] = Field(default_factory=list)
    key_phrases: list[list[str]] = Field(default_factory=list)
    follow_up: bool | None = None  # needs the earlier turns (None: not labelled)
    unanswerable: bool = False


class Dialogue(BaseModel):
    id: str
    turns: list[DialogueTurn] = Field(min_length=2)


def read_jsonl(path: Path) -> Iterator[dict]:
    """The records of a JSON Lines file; raises EvaluationError for a missing file or a broken line."""
    if not path.is_file():
        raise EvaluationError(f"{path}: dataset file not found (run gridkb eval from the repository root, where eval/datasets is)")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise EvaluationError(f"{path}:{number}: {exc}") from None


def load_domain(path: Path, split: str | None = None) -> list[DomainQuestion]:
    questions = [DomainQuestion.model_validate(r) for r in read_jsonl(path)]
    return [q for q in questions if split in (None, "all") or q.split == split]


def load_unanswerable(path: Path, split: str | None = None) -> list[UnanswerableQuestion]:
    questions = [UnanswerableQuestion.model_validate(r) for r in read_jsonl(path)]
    return [q for q in questions if split in (None, "all") or q.split == split]


def load_real(path: Path, split: str | None = None, corpus_has_new_facts: bool = True) -> list[RealQuestion]:
    """Real-phrasing questions of ``split``. A question answered only by the facts added to the corpus
    later (``needs_new_facts``) is unanswerable unless ``corpus_has_new_facts``."""
    questions = []
    for record in read_jsonl(path):
        question = RealQuestion.model_validate(record)
        if question.needs_new_facts and corpus_has_new_facts:
            question = question.model_copy(update={"unanswerable": False})
        if split in (None, "all") or question.split == split:
            questions.append(question)
    return questions


def load_dialogues(path: Path) -> list[Dialogue]:
    return [Dialogue.model_validate(r) for r in read_jsonl(path)]


def key_phrases_found(answer: str, groups: list[list[str]]) -> bool:
    """True when ``answer`` contains one alternative of every group (spacing and width ignored)."""
    text = compact(normalize_line(answer))
    return all(any(compact(normalize_line(alt)) in text for alt in group) for group in groups)


@dataclass(frozen=True)
class GoldSection:
    doc: str
    title: str
    text: str  # normalised, compact text of the section and everything under it


class GoldIndex:
    """Resolves (document, section title) references to section text, parsing each document once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._docs: dict[str, dict[str, str]] = {}

    def _sections(self, doc: str) -> dict[str, str]:
        if doc not in self._docs:
            document = load_document(self.root / doc, 1 << 28)
            texts: dict[str, list[str]] = {compact(document.title): []}
            for section in build_sections(document.id, document.title, document.blocks):
                body = [compact(t) for t in section.title_path[1:]] + [compact(section.text)]
                texts[compact(document.title)].extend(body)
                for title in section.title_path[1:]:
                    texts.setdefault(compact(title), []).extend(body)
            for faq in document.faqs:
                texts.setdefault(compact(faq.question), []).append(compact(f"问：{faq.question}答：{faq.answer}"))
            self._docs[doc] = {title: "".join(parts) for title, parts in texts.items()}
        return self._docs[doc]

    def resolve(self, ref: GoldRef) -> GoldSection:
        """The gold section's text; raises KeyError when the document has no such section."""
        if not (self.root / ref.doc).is_file():
            raise KeyError(f"{ref.doc}: no such document")
        sections = self._sections(ref.doc)
        key = compact(normalize_line(ref.section))
        if key not in sections:
            raise KeyError(f"{ref.doc}: no section '{ref.section}'")
        return GoldSection(ref.doc, ref.section, sections[key])


def ngrams(text: str, n: int = 6) -> set[str]:
    return {text[i : i + n] for i in range(max(1, len(text) - n + 1))}


def passage_matches(passage_text: str, gold: GoldSection, threshold: float = 0.6) -> bool:
    """A passage is relevant when most of it lies inside the gold section, or most of the section inside it.

    System-independent: it judges any system's passages (gridkb's chunks, the baseline's splits) alike.
    """
    text = compact(normalize_line(passage_text))
    if not text or not gold.text:
        return False
    passage_grams, gold_grams = ngrams(text), ngrams(gold.text)
    shared = len(passage_grams & gold_grams)
    return shared >= threshold * len(passage_grams) or shared >= threshold * len(gold_grams)


# ---------------------------------------------------------------- external datasets
@dataclass(frozen=True)
class ExternalQuestion:
    id: str
    question: str
    paragraph_id: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class ExternalPassage:
    id: str
    text: str
    meta: dict[str, str]


def load_squad(path: Path) -> tuple[list[ExternalPassage], list[ExternalQuestion]]:
    """Paragraphs and questions of a SQuAD-style file (CMRC 2018, DRCD)."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    passages, questions = [], []
    for article in data:
        for paragraph in article["paragraphs"]:
            pid = str(paragraph.get("id") or f"{article.get('id', 'a')}-{len(passages)}")
            passages.append(ExternalPassage(pid, paragraph["context"], {"title": str(article.get("title", ""))}))
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(ExternalQuestion(str(qa["id"]), qa["question"], pid, answers))
    return passages, questions


def load_regulations(folder: Path) -> list[ExternalPassage]:
    """Power-regulation paragraphs (distractors with status and dates)."""
    passages = []
    with (folder / "electricity_laws_paragraphs.jsonl").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            record = json.loads(line)
            passages.append(ExternalPassage(f"law-{number:05d}", record["content"], {k: str(record.get(k, "")) for k in ("title", "status", "effective_date")}))
    articles = json.loads((folder / "gongdian_yingye_guize_1996_articles.json").read_text(encoding="utf-8"))
    for number, article in enumerate(articles):
        passages.append(ExternalPassage(f"gyg1996-{number:03d}", article["content"], {"title": article.get("title", ""), "status": "已废止"}))
    return passages


def sample(items: list, limit: int | None, seed: int = 13) -> list:
    """A reproducible sample of at most ``limit`` items (all when None)."""
    if limit is None or limit >= len(items):
        return items
    return random.Random(seed).sample(items, limit)


def passage_file_name(passage_id: str) -> str:
    """The text file an external passage is written to (and so the source it is ingested as)."""
    return re.sub(r"[^\w\-]", "_", passage_id) + ".txt"


def write_passages(passages: Iterable[ExternalPassage], folder: Path) -> int:
    """One text file per passage, so external data goes through the normal ingestion path."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for passage in passages:
        path = folder / passage_file_name(passage.id)
        if not path.exists():
            path.write_text(passage.text, encoding="utf-8")
        count += 1
    return count
