"""Structure-aware chunking: a chunk never crosses a section, never splits a sentence or a list item.

Small neighbouring blocks of one section are packed together up to ``max_chars``; a section shorter
than ``min_chars`` is still its own chunk (its title path gives it context), and an over-long
paragraph is cut only at sentence ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from gridkb.records import Block, BlockKind, Chunk, ChunkKind, Document, Section, content_id

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")


def split_sentences(text: str) -> list[str]:
    """Split Chinese text after 。！？；, keeping the punctuation; never returns empty pieces."""
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def _pieces(block: Block, max_chars: int) -> list[str]:
    """A block's text, cut at sentence ends when it is longer than ``max_chars``."""
    if len(block.text) <= max_chars:
        return [block.text]
    pieces: list[str] = []
    current = ""
    for sentence in split_sentences(block.text):
        if current and len(current) + len(sentence) > max_chars:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


def _pack(blocks: Sequence[Block], max_chars: int) -> list[str]:
    """Pack block texts (one per line) into chunk texts of at most ``max_chars`` where possible."""
    texts: list[str] = []
    current: list[str] = []
    size = 0
    for block in blocks:
        for piece in _pieces(block, max_chars):
            if current and size + len(piece) > max_chars:
                texts.append("\n".join(current))
                current, size = [], 0
            current.append(piece)
            size += len(piece) + 1
    if current:
        texts.append("\n".join(current))
    return texts


def _merge_short_tail(texts: list[str], min_chars: int, max_chars: int) -> list[str]:
    """A too-short last piece joins its neighbour when the two still fit."""
    if len(texts) >= 2 and len(texts[-1]) < min_chars and len(texts[-2]) + len(texts[-1]) < max_chars:
        return [*texts[:-2], texts[-2] + "\n" + texts[-1]]
    return texts


def chunk_section(document: Document, section: Section, start: int, min_chars: int, max_chars: int) -> list[Chunk]:
    """The chunks of one section; ``start`` is the position of the first one within the document."""
    texts = _merge_short_tail(_pack(section.blocks, max_chars), min_chars, max_chars)
    chunks = []
    for offset, text in enumerate(texts):
        chunks.append(
            Chunk(
                id=content_id(document.source, *section.title_path, text),
                doc_id=document.id,
                source=document.source,
                kind=ChunkKind.TEXT,
                title_path=section.title_path,
                text=text,
                position=start + offset,
                audience=document.meta.audience,
                valid_from=document.meta.valid_from,
                valid_to=document.meta.valid_to,
            )
        )
    return chunks


def chunk_document(document: Document, sections: Iterable[Section], min_chars: int, max_chars: int) -> list[Chunk]:
    """All chunks of a document. FAQ entries become one chunk each (question and answer together)."""
    faq_by_question = {faq.question: faq for faq in document.faqs}
    chunks: list[Chunk] = []
    for section in sections:
        faq = faq_by_question.get(section.title) if document.faqs else None
        if faq is not None:
            chunks.append(_faq_chunk(document, faq, section, len(chunks)))
            continue
        if not section.blocks:
            section = Section(section.doc_id, section.title_path, section.number, (Block(BlockKind.PARAGRAPH, section.title),))
        chunks.extend(chunk_section(document, section, len(chunks), min_chars, max_chars))
    return _unique(chunks)


def _faq_chunk(document: Document, faq, section: Section, position: int) -> Chunk:  # type: ignore[no-untyped-def]
    text = f"问：{faq.question}\n答：{faq.answer}"
    return Chunk(
        id=content_id(document.source, "faq", text),
        doc_id=document.id,
        source=document.source,
        kind=ChunkKind.FAQ,
        title_path=section.title_path,
        text=text,
        position=position,
        audience=document.meta.audience,
        valid_from=document.meta.valid_from,
        valid_to=document.meta.valid_to,
        faq_id=faq.id,
        category=faq.category,
    )


def _unique(chunks: list[Chunk]) -> list[Chunk]:
    """The same text twice under the same heading of one document is one chunk."""
    seen: set[str] = set()
    return [c for c in chunks if not (c.id in seen or seen.add(c.id))]  # type: ignore[func-returns-value]
