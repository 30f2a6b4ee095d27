"""Conflicts: the corpus states the same fact with different numbers in different documents.

A statement is a sentence with time limits, prices or ratios. Two statements claim the same fact
when they name the same subject (its surface form, so 高压单电源用户 and 高压双电源用户 stay apart),
use the same units, and read the same once numbers are masked; they conflict when the numbers
differ. The newer document wins when the dates or a ``supersedes`` link say so; otherwise the
conflict is left to a knowledge operator.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

from gridkb.errors import ConflictAlreadyDecidedError, ConflictDecisionError, ConflictNotFoundError
from gridkb.organisation.dedup import text_overlap
from gridkb.production.chunking import split_sentences
from gridkb.production.extract import extract_quantities
from gridkb.production.lexicon import Lexicon
from gridkb.records import Chunk, Conflict, ConflictDecision, Statement

_NUMBER = re.compile(r"\d+(?:\.\d+)?|[一二两三四五六七八九十百]+(?=个|小时|分钟|天|日|年|元|千瓦时|%)")
_LIST_MARKER = re.compile(r"^(?:[（(][一二三四五六七八九十\d]+[）)]|\d+[.、]|[a-z][)）])\s*")
_KINDS = {"time_limit", "price", "ratio"}
SAME_CLAIM = 0.8
SAME_LIST_CLAIM = 0.9  # lists are compared only when everything around them reads the same
# "包括：A、B、C" / "渠道有 A、B 和 C": three or more items joined by 、, with an optional final 和/及/或
_ENUMERATION = re.compile(r"(?:包括|包含|涵盖|分为|有|为|是|：|通过)(?P<items>[^，。；：、]{1,16}(?:、[^，。；：、]{1,16}){1,}(?:(?:和|及|以及|或)[^，。；：、]{1,16})?)")


def _masked(sentence: str) -> str:
    return _NUMBER.sub("#", _LIST_MARKER.sub("", sentence))


def _list_items(sentence: str) -> tuple[tuple[str, ...], str] | None:
    """The items of the longest enumeration in ``sentence`` (sorted) and the sentence with it masked."""
    best = max(_ENUMERATION.finditer(sentence), key=lambda m: len(m.group("items")), default=None)
    if best is None:
        return None
    items = [i.strip() for i in re.split(r"、|以及|和|及|或", best.group("items")) if i.strip()]
    if len(items) < 3:
        return None
    masked = sentence[: best.start("items")] + "#LIST" + sentence[best.end("items") :]
    return tuple(sorted(items)), masked


def statements_of(chunk: Chunk, lexicon: Lexicon) -> list[tuple[tuple[str, tuple[str, ...]], Statement, str]]:
    """(claim key, statement, masked sentence) for each sentence of ``chunk`` that states numbers or a list."""
    found = []
    for sentence in split_sentences(chunk.text.replace("\n", "。")):
        listed = _list_items(sentence)
        quantities = [q for q in extract_quantities(sentence, lexicon) if q.kind in _KINDS]
        if listed and not quantities:
            items, masked = listed
            mentions = lexicon.mentions(masked)
            subject = mentions[0][1] if mentions else ""
            statement = Statement(chunk.id, chunk.source, sentence.strip(), items, chunk.valid_from, chunk.valid_to)
            found.append(((subject, ("list",)), statement, masked))
            continue
        if not quantities:
            continue
        mentions = lexicon.mentions(sentence)
        subject = mentions[0][1] if mentions else ""
        key = (subject, tuple(q.unit for q in quantities))
        statement = Statement(chunk.id, chunk.source, sentence.strip(), tuple(q.text for q in quantities), chunk.valid_from, chunk.valid_to)
        found.append((key, statement, _masked(sentence)))
    return found


def find_conflicts(chunks: Sequence[Chunk], lexicon: Lexicon, supersedes: dict[str, str], today: date) -> list[Conflict]:
    """Every group of same-fact statements with different numbers across documents."""
    by_key: dict[tuple, list[tuple[Statement, str]]] = defaultdict(list)  # type: ignore[type-arg]
    for chunk in chunks:
        for key, statement, masked in statements_of(chunk, lexicon):
            if key[0]:
                by_key[key].append((statement, masked))
    conflicts = []
    for key, items in by_key.items():
        for group in _claim_groups(items, SAME_LIST_CLAIM if key[1] == ("list",) else SAME_CLAIM):
            is_list = key[1] == ("list",)
            values = _distinct_lists([s.values for s in group]) if is_list else {s.values for s in group}
            sources = {s.source for s in group}
            if len(values) > 1 and len(sources) > 1:
                preferred, reason = _prefer(group, supersedes, today)
                conflicts.append(Conflict(key[0], tuple(group), preferred, reason))
    return sorted(conflicts, key=lambda c: (c.subject, c.statements[0].sentence))


def _same_list(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Two lists name the same items when every item has a close counterpart (wording may vary)."""
    return len(a) == len(b) and all(any(text_overlap(x, y) >= 0.6 for y in b) for x in a)


def _distinct_lists(lists: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    distinct: list[tuple[str, ...]] = []
    for items in lists:
        if not any(_same_list(items, other) for other in distinct):
            distinct.append(items)
    return distinct


MAX_FUZZY_BUCKETS = 60  # beyond this many distinct wordings of one subject, only exact wordings are grouped


def _wording(masked: str) -> str:
    """The masked sentence without FAQ prefixes, spaces and punctuation: the exact-grouping key."""
    return re.sub(r"[\s，。；：、！？“”（）()]|^(?:答|问)", "", masked)


def _claim_groups(items: list[tuple[Statement, str]], threshold: float) -> list[list[Statement]]:
    """Groups of statements that read the same once numbers (or list items) are masked.

    Exact wordings are bucketed in one pass; buckets are then merged by fuzzy similarity of their
    wordings, but only while a subject has few enough wordings for the pairwise comparison to stay
    cheap, so a knowledge base of 100,000 chunks is organised in linear time.
    """
    buckets: dict[str, list[tuple[Statement, str]]] = {}
    for statement, masked in items:
        buckets.setdefault(_wording(masked), []).append((statement, masked))
    keys = list(buckets)
    merged: list[list[tuple[Statement, str]]] = []
    if len(keys) <= MAX_FUZZY_BUCKETS:
        representatives: list[str] = []
        for key in keys:
            for i, other in enumerate(representatives):
                if text_overlap(key, other) >= threshold:
                    merged[i].extend(buckets[key])
                    break
            else:
                representatives.append(key)
                merged.append(list(buckets[key]))
    else:
        merged = [buckets[key] for key in keys]
    groups = []
    for group in merged:
        statements = _without_self_contradictions(_one_per_source([s for s, _ in group]))
        if len(statements) > 1:
            groups.append(statements)
    return groups


def _without_self_contradictions(statements: list[Statement]) -> list[Statement]:
    """A document that states two values for one claim itself (a before/after table) is left out:
    the conflicts reported are between documents."""
    values: dict[str, set[tuple[str, ...]]] = {}
    for s in statements:
        values.setdefault(s.source, set()).add(s.values)
    return [s for s in statements if len(values[s.source]) == 1]


def _one_per_source(statements: list[Statement]) -> list[Statement]:
    seen: dict[tuple[str, tuple[str, ...]], Statement] = {}
    for s in statements:
        seen.setdefault((s.source, s.values), s)
    return list(seen.values())


def _expired(statement: Statement, today: date) -> bool:
    return bool(statement.valid_to) and date.fromisoformat(statement.valid_to) < today  # type: ignore[arg-type]


def _prefer(group: Sequence[Statement], supersedes: dict[str, str], today: date) -> tuple[str, str]:
    """Which statement wins: the successor of a superseded document, else the one still valid, else the newest."""
    sources = {s.source for s in group}
    for s in group:
        if supersedes.get(s.source) in sources:
            return s.chunk_id, f"{s.source} supersedes {supersedes[s.source]}"
    current = [s for s in group if not _expired(s, today)]
    if 0 < len(current) < len(group) and len({s.values for s in current}) == 1:
        return current[0].chunk_id, "the other statements are expired"
    dated = sorted((s for s in current if s.valid_from), key=lambda s: s.valid_from or "", reverse=True)
    if len(dated) >= 2 and dated[0].valid_from != dated[1].valid_from:
        return dated[0].chunk_id, f"newest effective date ({dated[0].valid_from})"
    return "", "no dates decide it: a knowledge operator must choose"


def apply_decisions(conflicts: Sequence[Conflict], decisions: Mapping[str, ConflictDecision]) -> list[Conflict]:
    """The conflicts with the admins' rulings filled in where the documents left them undecided."""
    ruled = []
    for conflict in conflicts:
        decision = decisions.get(conflict.id)
        if decision is not None and not conflict.preferred:
            reason = f"人工裁决：{decision.note}" if decision.note else "人工裁决"
            conflict = replace(conflict, preferred=decision.preferred, reason=reason, decided_by=decision.decided_by)
        ruled.append(conflict)
    return ruled


def check_decision(conflicts: Sequence[Conflict], conflict_id: str, preferred: str) -> Conflict:
    """The undecided conflict ``conflict_id`` that ``preferred`` may settle; raises ConflictNotFoundError,
    ConflictAlreadyDecidedError, or ConflictDecisionError when ``preferred`` is not one of its statements."""
    conflict = next((c for c in conflicts if c.id == conflict_id), None)
    if conflict is None:
        raise ConflictNotFoundError(f"没有编号为 {conflict_id} 的冲突（知识库重建后请刷新组织报告）")
    if conflict.preferred:
        raise ConflictAlreadyDecidedError(f"冲突 {conflict_id} 已有结论：{conflict.reason}")
    if preferred not in {s.chunk_id for s in conflict.statements}:
        raise ConflictDecisionError(f"段落 {preferred} 不是冲突 {conflict_id} 的表述之一")
    return conflict
