"""Answer text: a curated FAQ answer, or the sentences, lists and tables of a passage that hold what
was asked, with numbers, units and lists kept whole (a list or a table is never cut), short enough
for a chat bubble.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gridkb.application.search import SearchHit
from gridkb.production.chunking import split_sentences

MAX_ANSWER_CHARS = 220
KEEP_SHARE = 0.5  # a unit joins the best one when it scores at least this share of it
ENOUGH = 0.6  # and while the answer is shorter than this share of the limit
RANK_PENALTY = 0.8  # a unit of the next passage down must score this much more to be chosen
_LIST_LINE = re.compile(r"^(?:[a-zA-Z][)）]|\d{1,2}[.．、)）]|[（(]\d{1,2}[）)]|[（(][一二三四五六七八九十]+[）)]|[-•·●])")
_TABLE_ROW = re.compile(r"^[^：；。]{1,16}：[^；]*；[^：；]{1,16}：")  # "档次：第一档；电价标准：0.59 元/千瓦时"

# the verdict a yes/no FAQ answer opens with ("可以。支付宝…"): it answers that FAQ's own question
_VERDICT = re.compile(r"^(?:可以|不可以|能|不能|是的|是|不是|对|不对|会|不会|需要|不需要|要|不用|有|没有|行|不行)[。，,！!]\s*(?=\S)")

# the number of an item ("2. 执行要求：…", "（三）"): taken out of its list into an answer, alone, it
# points at items the answer does not show (2. and 4. with no 1. and 3. read as text gone missing)
_ITEM_NUMBER = re.compile(r"^(?:\d{1,2}[.．、)）](?!\d)|[（(]\d{1,2}[）)]|[（(][一二三四五六七八九十]+[）)]|[一二三四五六七八九十]{1,3}、)\s*")

UnitScore = Callable[[str], float]


def without_verdict(text: str) -> str:
    """A yes/no FAQ's answer given to a question that asked something else (怎么交, 怎么算) loses its
    opening 可以。/ 不是。: said alone it would answer a question the customer did not ask."""
    return _VERDICT.sub("", text, count=1)


@dataclass(frozen=True)
class Composed:
    """An answer's text and the hits it cites."""

    text: str
    used: tuple[SearchHit, ...]
    main: str | None = None  # ``text`` without the curated answer to another question shown after it

    @property
    def own(self) -> str:
        """The answer to the question as the bot took it: what the evidence about the answer describes
        (another question's answer, shown under its own question, does not make it hold a price)."""
        return self.text if self.main is None else self.main


def shown(unit: str) -> str:
    """A unit as an answer shows it: a line taken out of a numbered list loses its number (a list
    kept whole with the line announcing it keeps its numbers)."""
    return unit if "\n" in unit else _ITEM_NUMBER.sub("", unit, count=1)


def units(text: str) -> list[list[str]]:
    """A text as units that must stay whole: a sentence; a list with the line that introduces it;
    the rows of a table (one "列：值；列：值" line each).

    A list runs from a line ending in "：" through the following item lines (numbered or not) up to
    the first item that ends with "。".
    """
    lines = [line for line in text.split("\n") if line.strip()]
    found: list[list[str]] = []
    open_list = open_table = False
    for line in lines:
        if _TABLE_ROW.match(line):
            if open_table:
                found[-1].append(line)
            else:
                found.append([line])
            open_table, open_list = True, False
        elif open_list and (_LIST_LINE.match(line) or (len(line) <= 80 and not found[-1][-1].endswith("。"))):
            found[-1].append(line)  # an item joins its list and the line that announced it
        elif line.endswith("："):
            found.append([line])
            open_list, open_table = True, False
        else:
            found.extend([s] for s in split_sentences(line))
            open_list = open_table = False
    return found


def extract(text: str, score: UnitScore, limit: int = MAX_ANSWER_CHARS) -> str:
    """The units of ``text`` that answer best (by ``score``), in their original order: the best
    one, and those that score at least half as well until the answer is long enough, within ``limit``."""
    whole = ["\n".join(unit) for unit in units(text)]
    if not whole:
        return ""
    scored = sorted(((score(u), n) for n, u in enumerate(whole)), key=lambda x: (-x[0], x[1]))
    best = scored[0][0]
    chosen = [scored[0][1]]
    size = len(whole[chosen[0]])
    for value, n in scored[1:]:
        if size >= ENOUGH * limit:
            break
        if value <= 0 or value < KEEP_SHARE * best or size + len(whole[n]) > limit:
            continue
        chosen.append(n)
        size += len(whole[n])
    return "\n".join(shown(whole[n]) for n in sorted(chosen))


def compose_passages(
    hits: Sequence[SearchHit], score: UnitScore, limit: int = MAX_ANSWER_CHARS, holds_asked: Callable[[str], bool] | None = None
) -> Composed:
    """The best units of the best passages (``hits`` best first; a lower passage's unit must score
    higher to be chosen), kept in passage order, until the answer is long enough. When the best
    passage holds the kind of information asked (``holds_asked``: the 1.7 : 1 : 0.38 ratio for
    峰谷电价怎么算), the answer is drawn from it alone: a lower passage that repeats more of the
    question's words (a charging tariff table that names 峰谷分时电价) answers another question."""
    candidates = [(rank, position, "\n".join(unit), hit) for rank, hit in enumerate(hits) for position, unit in enumerate(units(hit.chunk.answer_text))]
    if holds_asked is not None and any(holds_asked(text) for rank, _, text, _ in candidates if rank == 0):
        candidates = [c for c in candidates if c[0] == 0]
    scored = [(score(text) - RANK_PENALTY * rank, rank, position, text, hit) for rank, position, text, hit in candidates]
    if not scored:
        return Composed("", ())
    best = max(x[0] for x in scored)
    chosen: list[tuple[int, int, str, SearchHit]] = []
    size = 0
    for value, rank, position, text, hit in sorted(scored, key=lambda x: -x[0]):
        if chosen and (value <= 0 or value < KEEP_SHARE * best or size + len(text) > limit):
            continue
        chosen.append((rank, position, text, hit))
        size += len(text)
        if size >= ENOUGH * limit:
            break
    chosen.sort(key=lambda x: (x[0], x[1]))
    used = tuple({hit.chunk.id: hit for _, _, _, hit in chosen}.values())
    return Composed("\n".join(shown(text) for _, _, text, _ in chosen), used)


def complete_answer(
    text: str, used: list[SearchHit], others: Sequence[SearchHit], tokens: Sequence[str], holds_asked: Callable[[str], bool] | None = None
) -> tuple[str, list[SearchHit]]:
    """Complete an answer from the next candidates: a question of several parts gets the best unit
    that covers what the answer leaves out (two of the question's words or more); an answer that
    does not hold the kind of information asked (``holds_asked``: a price for 怎么算) gets the best
    unit on the same subject that does. Within the size limit."""
    missing = [t for t in tokens if len(t) >= 2 and t not in text]
    lacks_kind = holds_asked is not None and not holds_asked(text)
    if len(missing) < 2 and not lacks_kind:
        return text, used
    best: tuple[float, str, SearchHit] | None = None
    for hit in others:
        for unit in units(hit.chunk.answer_text):
            joined = "\n".join(unit)
            covered = sum(1 for t in missing if t in joined)
            gives_kind = lacks_kind and holds_asked is not None and holds_asked(joined) and any(t in joined for t in tokens if len(t) >= 2)
            value = covered + 2.0 * gives_kind
            if (covered >= 2 or gives_kind) and joined not in text and len(text) + len(joined) <= MAX_ANSWER_CHARS and (best is None or value > best[0]):
                best = (value, joined, hit)
    if best is None:
        return text, used
    return f"{text}\n{shown(best[1])}", [*used, best[2]]


ALTERNATIVE_HEAD = "如果您想问的是「{question}」：{answer}"
REDUNDANT_SHARE = 0.45  # an alternative with this share of its character pairs in the answer already adds too little


def _pairs(text: str) -> set[str]:
    letters = re.sub(r"\W", "", text)
    return {letters[i : i + 2] for i in range(len(letters) - 1)}


def with_alternative(text: str, used: list[SearchHit], alternatives: Sequence[tuple[str, str, SearchHit]]) -> tuple[str, list[SearchHit]]:
    """Add the first of ``alternatives`` (question, answer, hit: curated answers to other questions
    the customer may have meant, nearly as likely as the one answered) that says something new and
    fits, headed by its own question so that the customer sees which question it answers."""
    for question, answer, hit in alternatives:
        pairs = _pairs(answer)
        if not pairs or len(pairs & _pairs(text)) >= REDUNDANT_SHARE * len(pairs):
            continue
        if len(text) + len(answer) > MAX_ANSWER_CHARS:  # the heading is not counted
            continue
        # a paragraph of its own: it answers another question
        return f"{text}\n\n{ALTERNATIVE_HEAD.format(question=question.rstrip('？?'), answer=answer)}", [*used, hit]
    return text, used
