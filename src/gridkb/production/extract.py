"""Extraction: terms and definitions, entities, quantities with units, and relations between entities."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from gridkb.production.chunking import split_sentences
from gridkb.production.lexicon import Lexicon, entity_id
from gridkb.production.terms import extract_terms
from gridkb.records import Chunk, Entity, Quantity, Relation, Section, Term

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

# unit → kind; longer units first so 个工作日 wins over 日
_UNITS: dict[str, str] = {
    "个工作日": "time_limit", "工作日": "time_limit", "个月": "time_limit", "小时": "time_limit",
    "分钟": "time_limit", "天": "time_limit", "日": "time_limit", "年": "time_limit", "周": "time_limit",
    "元/千瓦时": "price", "元/kWh": "price", "元": "price", "千瓦时": "energy", "kWh": "energy", "度": "energy",
    "千伏安": "power", "千瓦": "power", "千伏": "voltage", "伏": "voltage", "毫安": "current",
    "%": "ratio", "米": "distance", "位": "count", "个": "count", "项": "count", "次": "count",
}
_NUMBER = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百零〇]+)"
_QUANTITY = re.compile(
    rf"(?P<value>[+±\-−]?{_NUMBER}(?:\s*[–\-~～至到]\s*{_NUMBER})?)\s*(?P<unit>"
    + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    + r")"
)
_RATIO_WORDS = re.compile(r"(千分之[一二三四五六七八九十]+|百分之[一二三四五六七八九十]+)")
_PHRASE = r"[\u4e00-\u9fffA-Za-z0-9]{2,14}"
_LIST_SPLIT = re.compile(r"、|，|以及|及|和|与|或")
_RELATION_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("组成", re.compile(rf"({_PHRASE})(?:主要)?由([^。；]{{2,120}}?)(?:组成|构成)")),
    ("包含", re.compile(rf"({_PHRASE})(?:应)?(?:包含|包括|涵盖)([^。；：]{{2,120}})")),
    ("负责", re.compile(rf"({_PHRASE})(?:主要)?负责([^。；，]{{2,40}})")),
    ("载体", re.compile(rf"({_PHRASE})的载体是([^。；]{{2,60}})")),
    ("适用于", re.compile(rf"({_PHRASE})?适用于([^。；]{{2,60}})")),
]
_PHRASE_NOISE = re.compile(r"^(?:应|主要|等|的|上层|下层|层面的?|一个|作为)+|(?:等内容|等功能|等平台|等工作|等|的|应当|应主要|应|主要)+$")


@dataclass
class Extraction:
    """What extraction found in one document."""

    chunks: list[Chunk]
    terms: list[Term] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)  # discovered (non-dictionary) entities
    relations: list[Relation] = field(default_factory=list)


def cn_to_int(text: str) -> int | None:
    """Small Chinese numerals (五, 十五, 二十二, 一百) → int; None when not a numeral."""
    if not text or any(ch not in _CN_DIGITS and ch not in "十百" for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[ch]
    return total + current


def _arabic(value: str) -> str:
    return re.sub(r"[一二两三四五六七八九十百零〇]+", lambda m: str(cn_to_int(m.group(0)) or m.group(0)), value)


def extract_quantities(text: str, lexicon: Lexicon) -> list[Quantity]:
    """Numbers with units (5 个工作日, 45 分钟, 0.05 元/千瓦时, 千分之二) with the entity they describe."""
    found: list[Quantity] = []
    for sentence in split_sentences(text.replace("\n", "。")):
        subject = next(iter(lexicon.linked_entities(sentence)), "")
        for m in _QUANTITY.finditer(sentence):
            value, unit = m.group("value"), m.group("unit")
            if unit in ("个", "日", "年", "次", "度") and not re.search(r"\d", value) and cn_to_int(value) is None:
                continue
            if unit == "年" and re.fullmatch(r"\d{4}", value):
                continue  # a year, not a duration
            if unit in ("日", "年") and re.search(r"[年月]\s*$", sentence[: m.start()]):
                continue  # part of a date (2025 年 1 月 1 日)
            found.append(Quantity(_arabic(value).replace("−", "-").replace(" ", ""), unit, _UNITS[unit], sentence, subject))
        for m in _RATIO_WORDS.finditer(sentence):
            found.append(Quantity(m.group(0), "", "ratio", sentence, subject))
    return found


def _clean_phrase(phrase: str) -> str:
    phrase = re.sub(r"[“”\"'《》「」（）()]", "", phrase).strip()
    return _PHRASE_NOISE.sub("", phrase).strip()


def _argument_ids(phrase: str, lexicon: Lexicon, discovered: dict[str, Entity]) -> list[str]:
    """Entity ids for one side of a relation: dictionary entities, else short noun phrases split at 、和及."""
    linked = lexicon.linked_entities(phrase)
    if linked:
        return linked
    ids = []
    for part in _LIST_SPLIT.split(phrase):
        part = _clean_phrase(part)
        if 2 <= len(part) <= 14 and not re.search(r"\d", part):
            entity = discovered.setdefault(part, Entity(entity_id(part), part, "concept"))
            ids.append(entity.id)
    return ids


def extract_relations(chunk: Chunk, lexicon: Lexicon, discovered: dict[str, Entity]) -> list[Relation]:
    """Typed relations from sentence patterns, plus weighted co-occurrence of entities in the chunk."""
    relations: list[Relation] = []
    for sentence in split_sentences(chunk.text.replace("\n", "。")):
        for rel_type, pattern in _RELATION_PATTERNS:
            for m in pattern.finditer(sentence):
                head = _clean_phrase(m.group(1) or "")
                before = lexicon.linked_entities(sentence[: m.start(2)])
                sources = before[-1:] or (_argument_ids(head, lexicon, discovered) if head else [])
                if not sources and rel_type == "适用于":
                    sources = [entity_id(chunk.title_path[0])]
                    discovered.setdefault(chunk.title_path[0], Entity(sources[0], chunk.title_path[0], "document"))
                targets = _argument_ids(m.group(2), lexicon, discovered)
                for s, t in itertools.product(sources[:1], targets):
                    if s != t:
                        relations.append(Relation(s, t, rel_type, 1.0, chunk.id, sentence[:200]))
    counts = Counter(chunk.entities)
    for a, b in itertools.combinations(sorted(counts), 2):
        relations.append(Relation(a, b, "co_occurs", float(min(counts[a], counts[b])), chunk.id))
    return relations


def keyword_entities(text: str, lexicon: Lexicon, top_k: int = 3) -> list[str]:
    """Salient nouns (jieba TF-IDF) that the dictionary does not know, as candidate entities."""
    keywords = lexicon.keywords(text, top_k + 3)
    return [k for k in keywords if len(k) >= 2 and k not in lexicon.by_surface and k not in lexicon.stopwords][:top_k]


def extract(chunks: Sequence[Chunk], sections: Sequence[Section], lexicon: Lexicon) -> Extraction:
    """Annotate chunks with entities and quantities; collect terms, discovered entities and relations."""
    discovered: dict[str, Entity] = {}
    annotated: list[Chunk] = []
    for chunk in chunks:
        entity_ids = lexicon.linked_entities(chunk.index_text)
        for keyword in keyword_entities(chunk.text, lexicon):
            entity = discovered.setdefault(keyword, Entity(entity_id(keyword), keyword, "keyword"))
            entity_ids.append(entity.id)
        annotated.append(
            replace(chunk, entities=tuple(dict.fromkeys(entity_ids)), quantities=tuple(extract_quantities(chunk.text, lexicon)))
        )
    relations = [r for c in annotated for r in extract_relations(c, lexicon, discovered)]
    return Extraction(annotated, extract_terms(sections, annotated), list(discovered.values()), relations)
