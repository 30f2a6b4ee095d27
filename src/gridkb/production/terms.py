"""Defined terms: every entry of a 术语和定义 clause, and "X是指…" sentences anywhere.

A standard's terms clause comes in several shapes once loaded, and all are read here:
- the entry as a heading and the definition as its first paragraph (``3.1`` / ``供电企业 power supply
  enterprise`` / definition — TXT and PDF, Markdown headings);
- the entry as a numbered paragraph followed by the definition paragraph (DOCX in body style);
- the whole entry on one line: ``3.1 供电企业：定义`` or ``3.1 供电企业 power supply enterprise 定义``;
- unnumbered or listed entries under a 术语/名词解释 heading: ``1. 峰谷电价：指…``.
Notes (注), examples (示例) and sources ([来源：…]) are not definitions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gridkb.records import Chunk, ChunkKind, Section, Term, content_id

# a heading that opens a terms clause: 3 术语和定义, 术语, 术语、定义和缩略语, 二、名词解释, 第二条 定义
_CLAUSE = re.compile(r"术语|名词解释|^(?:[\d.]+|第.{1,3}[章条节]|[一二三四五六七八九十]+、)?\s*(?:定义|释义)$")
_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})+|\d{1,2}[.．、](?!\d)|[（(]\d{1,2}[）)]|[①-⑳]|[a-z][)）]|[•·\-*●▪])\s*")
_NAME = r"[\u4e00-\u9fffA-Za-z0-9（）()、·/\-]{2,24}?"
_ENGLISH = r"[A-Za-z][A-Za-z ,;；\-/()]*[A-Za-z)]"
# 供电企业 power supply enterprise (a title line, the definition follows)
_TITLE = re.compile(rf"^(?P<name>{_NAME})(?:\s*(?P<en>{_ENGLISH}))?$")
# 供电企业：定义 / 供电企业是指定义 / 供电企业 power supply enterprise 定义
_INLINE = re.compile(
    rf"^[「“\"]?(?P<name>{_NAME})[」”\"]?(?:\s*(?P<en>{_ENGLISH}))?\s*(?:[:：]\s*(?:是指|指)?|(?:，)?(?:是指|系指|指的是))\s*(?P<definition>.{{4,}})$"
)
_INLINE_ENGLISH = re.compile(rf"^(?P<name>[\u4e00-\u9fff（）()、·]{{2,24}}?)\s*(?P<en>{_ENGLISH})\s+(?P<definition>[\u4e00-\u9fff].{{3,}})$")
_LEADING_ENGLISH = re.compile(rf"^({_ENGLISH})\s*(?=[\u4e00-\u9fff])")
_NOT_DEFINITION = re.compile(r"^(?:注\s*\d*\s*[:：]|注[:：]?$|示例|\[来源|【来源|来源[:：])")
_NOT_NAME = re.compile(r"^(?:下列|本文件|本标准|本规范|本办法)|[，。；！？]")
# definitions in running text: "本办法所称X，是指/包括…", "X是指…", "「三零」服务，即…" (a coined name in quotes)
_SENTENCES = (
    re.compile(r"所称([\u4e00-\u9fffA-Za-z0-9]{2,12}?)，?(?:是指|系指|指|(?=包括))([^。；\n]{4,200})"),
    re.compile(r"(?:^|[，。；：\n])\s*(?:所谓)?([\u4e00-\u9fffA-Za-z0-9「」“”]{2,20}?)，?(?:是指|指的是|系指)([^。；\n]{4,200})"),
    re.compile(r"([「“][\u4e00-\u9fffA-Za-z0-9]{1,12}[」”][\u4e00-\u9fff]{0,4}?)，即([^。；：:\n]{4,200})"),  # "栏目即可" is not one
)
_SCOPE_PREFIX = re.compile(r"^.*?所称")  # 本指引所称交易中心平台 → 交易中心平台


@dataclass(frozen=True)
class _Entry:
    name: str
    english: str
    definition: str


def in_terms_clause(title_path: Sequence[str]) -> int:
    """The depth of the terms clause heading in ``title_path`` (0: not inside one)."""
    return next((i for i, title in enumerate(title_path) if i and _CLAUSE.search(title)), 0)


def clause_entries(lines: Sequence[str]) -> Iterator[_Entry]:
    """Entries of a terms clause from its lines in order (entry titles, definitions, notes)."""
    pending: tuple[str, str] | None = None
    for raw in lines:
        text = raw.strip()
        numbered = bool(_NUMBER.match(text))
        text = _NUMBER.sub("", text, count=1).strip()
        if not text or _NOT_DEFINITION.match(text):
            continue
        if pending and not numbered:
            if not pending[1] and re.fullmatch(_ENGLISH, text):
                pending = (pending[0], text)  # the English name on a line of its own
                continue
            english = "" if pending[1] else _LEADING_ENGLISH.match(text)  # a PDF line break joined it to the definition
            if english:
                pending, text = (pending[0], english.group(1)), text[english.end() :]
            yield _Entry(pending[0], pending[1], text)
            pending = None
        elif entry := _inline_entry(text):
            yield entry
            pending = None
        elif numbered and (m := _TITLE.match(text)) and not _NOT_NAME.search(m.group("name")):
            pending = (m.group("name"), (m.group("en") or "").strip())


def _inline_entry(text: str) -> _Entry | None:
    m = _INLINE.match(text) or _INLINE_ENGLISH.match(text)
    if not m or _NOT_NAME.search(m.group("name")):
        return None
    return _Entry(m.group("name"), (m.group("en") or "").strip(), m.group("definition").strip())


def _clause_lines(section: Section, depth: int) -> list[str]:
    """The section's lines as the clause reads them: its own entry title (if below the clause), then its blocks."""
    titles = list(section.title_path[depth + 1 :][-1:])
    return titles + [b.text for b in section.blocks]


def _chunk_for(definition: str, section: Section, chunks: Sequence[Chunk]) -> str:
    same_path = [c for c in chunks if c.title_path == section.title_path]
    holding = [c for c in chunks if definition[:20] in c.text]
    return next((c.id for c in [*holding, *same_path]), "")


def _term(name: str, definition: str, english: str, chunk_id: str) -> Term:
    name = re.sub(r"[「」“”\"]", "", name).strip()
    return Term(content_id("term", name), name, definition.rstrip("。；; "), english, chunk_id)


def extract_terms(sections: Sequence[Section], chunks: Sequence[Chunk]) -> list[Term]:
    """Terms from terms clauses (each entry with its definition), then from "X是指…" sentences anywhere."""
    terms: dict[str, Term] = {}
    for section in sections:
        depth = in_terms_clause(section.title_path)
        if not depth:
            continue
        for entry in clause_entries(_clause_lines(section, depth)):
            term = _term(entry.name, entry.definition, entry.english, _chunk_for(entry.definition, section, chunks))
            terms.setdefault(term.name, term)
    for chunk in chunks:
        for name, definition in _sentence_definitions(chunk):
            term = _term(name, definition, "", chunk.id)
            terms.setdefault(term.name, term)
    return list(terms.values())


def _sentence_definitions(chunk: Chunk) -> Iterator[tuple[str, str]]:
    """(name, definition) of the definitions in a chunk's sentences; in a FAQ entry only its answer counts."""
    text = chunk.text.split("答：", 1)[-1] if chunk.kind is ChunkKind.FAQ else chunk.text
    for pattern in _SENTENCES:
        for m in pattern.finditer(text):
            name = _SCOPE_PREFIX.sub("", m.group(1))
            if len(re.sub(r"[「」“”]", "", name)) >= 2 and not re.search(r"[的了是在]$", name):
                yield name, m.group(2).strip("，： ")
