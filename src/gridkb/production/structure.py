"""Structure parsing: lines of plain or extracted text → headings, clauses, list items, paragraphs → sections.

Plain text (TXT, text extracted from PDF) has no markup, so headings are recognised by the numbering
conventions of Chinese standards and service documents: ``4 平台架构``, ``4.2.1 …``, clause numbers
printed after their heading (``一般规定 4.1``), ``一、``, ``（二）``, ``第三条``. Lines that a PDF broke
in the middle of a sentence are re-joined without inserting any space.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gridkb.production.normalize import normalize_line
from gridkb.records import Block, BlockKind, Section

CN_NUM = "一二三四五六七八九十百零〇两"
TERMINAL = "。！？；：.!?;:…"
_MAX_HEADING = 30

_BARE_CLAUSE = re.compile(r"^(\d{1,2}(?:\.\d{1,2})+)$")
_DOTTED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})+)\s*(\S.*)$")
_TOP_NUMBERED = re.compile(r"^(\d{1,2})\s+([^\d\s.．、)）].*)$")
_NUMBER_AFTER = re.compile(r"^(\D.{0,28}?)\s*(\d{1,2}(?:\.\d{1,2})+)$")
_CHAPTER = re.compile(rf"^(第[{CN_NUM}\d]+[章节篇部分]+)\s*(.*)$")
_ARTICLE = re.compile(rf"^(第[{CN_NUM}\d]+条)\s*(.*)$")
_CN_HEADING = re.compile(rf"^([{CN_NUM}]+)[、．.]\s*(.+)$")
_CN_PAREN = re.compile(rf"^[（(]([{CN_NUM}]+)[）)]\s*(.+)$")
_NAMED = re.compile(r"^(前言|引言|目次|目录|附录[A-Z]?|参考文献|附则|总则)$")
_LIST_ITEM = re.compile(
    r"^(?:([a-zA-Z])[)）]|(\d{1,2})[.．、](?!\d)|[（(](\d{1,2})[）)]|([①-⑳])|([•·\-*●▪]))\s*(.+)$"
)
_PAGE_NUMBER = re.compile(r"^(?:[-—–]\s*\d{1,4}\s*[-—–]|第\s*\d{1,4}\s*页(?:\s*[/／共]\s*\d{1,4}\s*页?)?|\d{1,4}(?:\s*/\s*\d{1,4})?)$")
_FIGURE_CAPTION = re.compile(r"^图\s*\d+(?:[-.]\d+)?\s*\S{0,30}$")


def _is_terminal(line: str) -> bool:
    return bool(line) and line[-1] in TERMINAL


def _heading_like(title: str) -> bool:
    return 0 < len(title) <= _MAX_HEADING and not _is_terminal(title) and "，" not in title


@dataclass(frozen=True)
class _Line:
    """A classified line: a heading (style and level decided later), list item, paragraph or skip."""

    kind: BlockKind | None  # None = drop (page number, figure caption)
    text: str
    number: str = ""
    style: str = ""
    body: str = ""  # text after a clause number that is not a heading title ("4.1.1 电网企业…")


def classify_line(line: str) -> _Line:
    """Decide what one normalised line of plain text is."""
    if _PAGE_NUMBER.match(line) or _FIGURE_CAPTION.match(line):
        return _Line(None, line)
    if m := _BARE_CLAUSE.match(line):
        return _Line(BlockKind.HEADING, line, m.group(1), f"dot{m.group(1).count('.') + 1}")
    if m := _DOTTED.match(line):
        number, rest = m.groups()
        style = f"dot{number.count('.') + 1}"
        if _heading_like(rest):
            return _Line(BlockKind.HEADING, f"{number} {rest}", number, style)
        return _Line(BlockKind.HEADING, number, number, style, body=rest)
    if (m := _TOP_NUMBERED.match(line)) and _heading_like(m.group(2)):
        return _Line(BlockKind.HEADING, f"{m.group(1)} {m.group(2)}", m.group(1), "dot1")
    if (m := _NUMBER_AFTER.match(line)) and _heading_like(m.group(1)) and not _LIST_ITEM.match(line):
        title, number = m.group(1).strip(), m.group(2)
        return _Line(BlockKind.HEADING, f"{number} {title}", number, f"dot{number.count('.') + 1}")
    if m := _CHAPTER.match(line):
        return _Line(BlockKind.HEADING, line, m.group(1), "chapter")
    if m := _ARTICLE.match(line):
        if _heading_like(m.group(2)):
            return _Line(BlockKind.HEADING, line, m.group(1), "article")
        return _Line(BlockKind.HEADING, m.group(1), m.group(1), "article", body=m.group(2))
    if (m := _CN_HEADING.match(line)) and _heading_like(m.group(2)):
        return _Line(BlockKind.HEADING, line, m.group(1), "cn")
    if (m := _CN_PAREN.match(line)) and _heading_like(m.group(2)):
        return _Line(BlockKind.HEADING, line, f"（{m.group(1)}）", "cn_paren")
    if _NAMED.match(line):
        return _Line(BlockKind.HEADING, line, "", "named")
    if m := _LIST_ITEM.match(line):
        marker = next(g for g in m.groups()[:5] if g)
        return _Line(BlockKind.LIST_ITEM, line, marker)
    return _Line(BlockKind.PARAGRAPH, line)


def _continues(previous: str, line: _Line, width: int) -> bool:
    """True when ``line`` is the rest of a sentence that a page or line break cut off.

    A broken line runs (nearly) to the full text width and does not end a sentence; a short line
    without final punctuation is a title or a signature, not half a sentence.
    """
    if line.kind is not BlockKind.PARAGRAPH or _is_terminal(previous):
        return False
    if len(line.text) <= 4 and _is_terminal(line.text):
        return True  # "系；" — the tail of a broken word
    return len(previous) >= 0.7 * width


def _text_width(lines: Sequence[str]) -> int:
    """The typical length of a full line: the 80th percentile of line lengths."""
    lengths = sorted(len(x) for x in lines if len(x) > 4)
    return lengths[int(len(lengths) * 0.8)] if lengths else 40


def plain_blocks(lines: Iterable[str]) -> list[Block]:
    """Parse lines of plain text (already split, not yet normalised) into structural blocks."""
    classified: list[_Line] = []
    normalised = [t for t in (normalize_line(raw) for raw in lines) if t]
    width = _text_width(normalised)
    for text in normalised:
        line = classify_line(text)
        if line.kind is None:
            continue
        previous = classified[-1] if classified else None
        if line.kind is BlockKind.PARAGRAPH and _is_plain_heading(line.text, previous):
            line = _Line(BlockKind.HEADING, line.text, "", "plain")
        if previous and _is_bare_clause(previous) and line.kind is BlockKind.PARAGRAPH and _heading_like(line.text):
            classified[-1] = _Line(BlockKind.HEADING, f"{previous.number} {line.text}", previous.number, previous.style)
        elif previous and previous.kind is not BlockKind.HEADING and _continues(previous.text, line, width):
            classified[-1] = _Line(previous.kind, previous.text + line.text, previous.number)
        elif previous and previous.kind is BlockKind.HEADING and previous.body and _continues(previous.body, line, width):
            classified[-1] = _Line(previous.kind, previous.text, previous.number, previous.style, previous.body + line.text)
        else:
            classified.append(line)
    return _assign_levels(classified)


def _is_bare_clause(line: _Line) -> bool:
    """A clause number alone on its line (``3.1``): the next short line is its title (a defined term)."""
    return line.kind is BlockKind.HEADING and line.text == line.number and not line.body and bool(_BARE_CLAUSE.match(line.number))


def _is_plain_heading(text: str, previous: _Line | None) -> bool:
    """An unnumbered sub-heading (news, notices): a short line with no punctuation after a finished sentence."""
    if previous is None or previous.kind is BlockKind.HEADING or not _is_terminal(previous.body or previous.text):
        return False
    return len(text) <= 24 and not any(ch in "，。；：！？、,;:!?" for ch in text) and not text.startswith(("表", "图"))


def _assign_levels(lines: Sequence[_Line]) -> list[Block]:
    """Heading levels from the order in which numbering styles appear (a style already open closes deeper ones)."""
    styles: list[str] = []
    blocks: list[Block] = []
    for line in lines:
        if line.kind is not BlockKind.HEADING:
            blocks.append(Block(line.kind or BlockKind.PARAGRAPH, line.text, 0, line.number))
            continue
        if line.style.startswith("dot"):
            depth = int(line.style[3:])
            styles = [s for s in styles if not s.startswith("dot") or int(s[3:]) < depth]
            styles = styles[: _dot_insert_position(styles, depth)]
            styles.append(line.style)
        elif line.style in styles:
            styles = styles[: styles.index(line.style) + 1]
        else:
            styles.append(line.style)
        blocks.append(Block(BlockKind.HEADING, line.text, len(styles), line.number))
        if line.body:
            blocks.append(Block(BlockKind.PARAGRAPH, line.body))
    return blocks


def _dot_insert_position(styles: list[str], depth: int) -> int:
    """Dotted clauses nest under the shallower dotted clause that is open, not under later styles."""
    for i in range(len(styles) - 1, -1, -1):
        if styles[i].startswith("dot") and int(styles[i][3:]) < depth:
            return i + 1
    return 0 if depth == 1 else len(styles)


def build_sections(doc_id: str, title: str, blocks: Sequence[Block]) -> list[Section]:
    """Group blocks under their headings; each heading opens a section with its full title path."""
    sections: list[Section] = []
    stack: list[Block] = []
    body: list[Block] = []

    def close() -> None:
        if body or (stack and not sections) or stack:
            path = (title, *(h.text for h in stack))
            number = stack[-1].number if stack else ""
            if body or stack:
                sections.append(Section(doc_id, path, number, tuple(body)))

    for block in blocks:
        if block.kind is BlockKind.HEADING and block.text == title and not stack and not body:
            continue  # the document's own title, already the root of every path
        if block.kind is BlockKind.HEADING:
            close()
            body = []
            stack = [h for h in stack if h.level < block.level]
            stack.append(block)
        else:
            body.append(block)
    close()
    return [s for s in sections if s.blocks or _is_leaf_heading(s, sections)]


def _is_leaf_heading(section: Section, sections: list[Section]) -> bool:
    """Keep an empty heading only when nothing is nested under it (it is then informative alone)."""
    depth = len(section.title_path)
    return not any(len(s.title_path) > depth and s.title_path[:depth] == section.title_path for s in sections)


def drop_repeated_lines(pages: Sequence[Sequence[str]], min_pages: int = 2) -> list[list[str]]:
    """Remove running headers and footers: a line at the top or bottom of most pages."""
    if len(pages) < min_pages:
        return [list(p) for p in pages]
    counts: dict[str, int] = {}
    for page in pages:
        edge = {normalize_line(x) for x in [*page[:2], *page[-2:]] if x.strip()}
        for line in edge:
            counts[line] = counts.get(line, 0) + 1
    threshold = max(min_pages, len(pages) // 2 + 1) if len(pages) > 2 else len(pages)
    repeated = {line for line, n in counts.items() if n >= threshold}
    return [[x for x in page if normalize_line(x) not in repeated] for page in pages]
