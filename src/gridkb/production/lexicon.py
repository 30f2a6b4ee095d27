"""The curated domain lexicon from ``kb/``: entities with aliases, synonyms, stopwords, and the
jieba tokenizer that knows them. Documents and queries go through the same instance.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import jieba
import yaml

from gridkb.errors import ConfigError
from gridkb.production.jieba_fast import tagger, tokenizer as jieba_tokenizer
from gridkb.production.normalize import normalize_line
from gridkb.records import Entity

if TYPE_CHECKING:
    import jieba.analyse
    import jieba.posseg

jieba.setLogLevel(logging.WARNING)

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: 10 times faster than pure Python
_TOKEN_KEEP = re.compile(r"[\w\u4e00-\u9fff%‰]")


def entity_id(name: str) -> str:
    return f"ent:{name}"


def _load_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise ConfigError(f"{path}: missing (expected in the kb configuration folder)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行: " if mark else ""
        raise ConfigError(f"{path}: {where}{getattr(exc, 'problem', exc)}") from None


@dataclass
class Lexicon:
    """Entities, synonym groups and stopwords, with a jieba tokenizer that keeps domain terms whole."""

    entities: list[Entity]
    synonym_groups: list[list[str]] = field(default_factory=list)
    stopwords: frozenset[str] = frozenset()

    @classmethod
    def load(cls, config_dir: Path) -> "Lexicon":
        """Read ``entities.yaml``, ``synonyms.yaml`` and ``stopwords.txt``; raises ConfigError naming the line."""
        raw = _load_yaml(config_dir / "entities.yaml")
        if not isinstance(raw, dict) or not isinstance(raw.get("entities"), list):
            raise ConfigError(f"{config_dir / 'entities.yaml'}: expected a top-level 'entities:' list")
        entities = []
        for i, item in enumerate(raw["entities"], start=1):
            if not isinstance(item, dict) or not item.get("name"):
                raise ConfigError(f"{config_dir / 'entities.yaml'}: entity #{i} needs a name")
            name = normalize_line(str(item["name"]))
            aliases = tuple(normalize_line(str(a)) for a in item.get("aliases") or [])
            entities.append(Entity(entity_id(name), name, str(item.get("type", "concept")), aliases))
        synonyms_file = config_dir / "synonyms.yaml"
        groups: list[list[str]] = []
        if synonyms_file.exists():
            data = _load_yaml(synonyms_file) or {}
            groups = [[normalize_line(str(w)) for w in g] for g in (data.get("groups") or []) if isinstance(g, list)]  # type: ignore[union-attr]
        stop_file = config_dir / "stopwords.txt"
        stopwords = frozenset(w.strip() for w in stop_file.read_text(encoding="utf-8").split()) if stop_file.exists() else frozenset()
        return cls(entities, groups, stopwords)

    @cached_property
    def by_surface(self) -> dict[str, str]:
        """Every name and alias → entity id (the longest entity wins on a shared alias)."""
        table: dict[str, str] = {}
        for entity in self.entities:
            for surface in (entity.name, *entity.aliases):
                if surface and surface not in table:
                    table[surface] = entity.id
        return table

    @cached_property
    def by_id(self) -> dict[str, Entity]:
        return {e.id: e for e in self.entities}

    @cached_property
    def _surface_pattern(self) -> re.Pattern[str]:
        surfaces = sorted(self.by_surface, key=len, reverse=True)
        return re.compile("|".join(re.escape(s) for s in surfaces)) if surfaces else re.compile(r"(?!)")

    @cached_property
    def tokenizer(self) -> jieba.Tokenizer:
        tokenizer = jieba_tokenizer()
        for surface in self.by_surface:
            if len(surface) > 1:
                tokenizer.add_word(surface, freq=200000)
        for group in self.synonym_groups:
            for word in group:
                if len(word) > 1:
                    tokenizer.add_word(word, freq=20000)
        return tokenizer

    def in_dictionary(self, word: str) -> bool:
        """A word of the tokenizer's dictionary (jieba's and the domain terms), not one it only guessed."""
        return bool(self.tokenizer.FREQ.get(word))

    @cached_property
    def _tagger(self) -> jieba.posseg.POSTokenizer:
        """jieba's tagger over our tokenizer (see ``jieba_tags``)."""
        return tagger(self.tokenizer)

    @cached_property
    def _keyword_extractor(self) -> jieba.analyse.TFIDF:
        """Built on first use only: jieba.analyse loads IDF tables (0.3 s) that answering does not need."""
        import jieba.analyse

        extractor = jieba.analyse.TFIDF()
        extractor.tokenizer = self.tokenizer
        extractor.postokenizer = self._tagger
        return extractor

    def keywords(self, text: str, top_k: int) -> list[str]:
        """The ``top_k`` most salient nouns of ``text`` by TF-IDF."""
        return list(self._keyword_extractor.extract_tags(text, topK=top_k, allowPOS=("n", "nz", "vn", "nt", "l")))

    def nouns(self, text: str) -> list[str]:
        """Nouns, names and time words of ``text`` (two characters or more), by jieba's tagger."""
        return [w for w, flag in self._tagger.cut(text) if len(w) >= 2 and flag[:1] in ("n", "t")]

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """(word, part-of-speech flag) pairs of ``text`` by jieba's tagger; dictionary terms are tagged
        "x". The HMM joins words the dictionary lacks (微信, 特斯拉) at about 3 ms a question."""
        return [(w, flag) for w, flag in self._tagger.cut(text)]

    def tokenize(self, text: str) -> list[str]:
        """Search tokens: jieba's search mode (words and their sub-words), lower-cased, no stopwords or punctuation."""
        tokens = []
        for token in self.tokenizer.cut_for_search(text.lower()):
            token = token.strip()
            if token and token not in self.stopwords and _TOKEN_KEEP.search(token):
                tokens.append(token)
        return tokens

    def mentions(self, text: str) -> list[tuple[str, str]]:
        """(entity id, surface form) for each dictionary mention in ``text``, longest match first."""
        return [(self.by_surface[m.group(0)], m.group(0)) for m in self._surface_pattern.finditer(text)]

    def linked_entities(self, text: str) -> list[str]:
        """Distinct entity ids mentioned in ``text``, in order of first mention."""
        seen: dict[str, None] = {}
        for entity, _ in self.mentions(text):
            seen.setdefault(entity, None)
        return list(seen)
