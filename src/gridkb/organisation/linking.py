"""Entity linking (the same code for chunks and questions): mentions → knowledge-graph entities
through the curated names, aliases and synonyms in ``kb/``, and the expansion terms search uses."""

from __future__ import annotations

from dataclasses import dataclass

from gridkb.production.lexicon import Lexicon
from gridkb.production.normalize import normalize_query


@dataclass(frozen=True)
class EntityLink:
    entity_id: str
    name: str  # canonical name
    surface: str  # as written in the text


def link(text: str, lexicon: Lexicon) -> list[EntityLink]:
    """Distinct entities mentioned in ``text`` (normalised first: 電費 and 电费 link alike)."""
    seen: dict[str, EntityLink] = {}
    for entity_id, surface in lexicon.mentions(normalize_query(text)):
        if entity_id not in seen:
            seen[entity_id] = EntityLink(entity_id, lexicon.by_id[entity_id].name, surface)
    return list(seen.values())


def expansion_terms(text: str, lexicon: Lexicon) -> list[str]:
    """Canonical names and aliases of the linked entities, plus synonym-group members of words in
    ``text``, that the text does not already contain: what query expansion may add."""
    clean = normalize_query(text)
    terms: list[str] = []
    for item in link(clean, lexicon):
        entity = lexicon.by_id[item.entity_id]
        terms.extend(t for t in (entity.name, *entity.aliases) if t not in clean)
    for group in lexicon.synonym_groups:
        if any(word in clean for word in group):
            terms.extend(w for w in group if w not in clean)
    return list(dict.fromkeys(terms))
