"""HTML pages: headings, paragraphs, list items and tables; scripts, styles and navigation dropped."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup, Tag

from gridkb.production.encoding import decode_text
from gridkb.production.loaders.base import Extracted, heading, table_row_block
from gridkb.production.normalize import normalize_line
from gridkb.records import Block, BlockKind

_DROP = ("script", "style", "noscript", "nav", "header", "footer", "iframe", "form", "button", "svg")
_HEADINGS = {f"h{i}": i for i in range(1, 7)}


def load_html(path: Path, data: bytes, encoding: str | None = None) -> Extracted:
    text = decode_text(data, str(path), encoding)
    soup = BeautifulSoup(text, "lxml")
    for tag in soup.find_all(_DROP):
        tag.decompose()
    title = normalize_line(soup.title.get_text()) if soup.title else ""
    root = soup.body or soup
    blocks: list[Block] = []
    _walk(root, blocks)
    return Extracted(blocks, text, title)


def _walk(node: Tag, blocks: list[Block]) -> None:
    for child in node.children:
        if not isinstance(child, Tag):
            if (text := normalize_line(str(child))) and node.name in ("body", "div", "section", "article", "main"):
                blocks.append(Block(BlockKind.PARAGRAPH, text))
            continue
        name = child.name
        if name in _HEADINGS:
            if h := heading(child.get_text(" "), _HEADINGS[name]):
                blocks.append(h)
        elif name == "table":
            blocks.extend(_table(child))
        elif name == "li":
            if text := normalize_line(child.get_text(" ")):
                blocks.append(Block(BlockKind.LIST_ITEM, text))
        elif name in ("p", "blockquote", "pre", "dd", "dt", "caption", "figcaption"):
            if text := normalize_line(child.get_text(" ")):
                blocks.append(Block(BlockKind.PARAGRAPH, text))
        else:
            _walk(child, blocks)


def _table(table: Tag) -> list[Block]:
    rows = [[normalize_line(c.get_text(" ")) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    if not body:
        return [Block(BlockKind.TABLE_ROW, "；".join(header))]
    return [b for r in body if (b := table_row_block(header, r))]
