"""Question analysis, the first stage of answering: what a question is about and what it asks.

A customer's question names a subject (the business object, 电费, and the action, 交) and the
kind of information wanted (怎么交 → channels, 什么时候交 → a date, 怎么算 → a price or formula),
sometimes a customer type (居民, 企业). The same analysis runs on every FAQ question and each of
its alternative wordings, and ``evidence`` tells which kinds of information a text holds (a price,
a duration, a list of channels…), so the reranker can prefer the candidate that answers what was
asked over one that only shares its words. The cues live in ``kb/question_analysis.yaml``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path

import yaml

from gridkb.errors import ConfigError
from gridkb.production.lexicon import SAFE_LOADER, Lexicon
from gridkb.production.normalize import normalize_query

RULES_FILE = "question_analysis.yaml"
_WORD = re.compile(r"[\w\u4e00-\u9fff]")


class InfoKind(str, Enum):
    """The kind of information a question asks for (and a text may hold)."""

    DURATION = "duration"
    DATE = "date"
    PRICE = "price"
    MATERIALS = "materials"
    RESPONSIBILITY = "responsibility"
    CHANNEL = "channel"
    DEFINITION = "definition"
    PROCEDURE = "procedure"
    YES_NO = "yes_no"
    OTHER = "other"


@dataclass(frozen=True)
class QuestionAnalysis:
    """One question (or FAQ wording) analysed."""

    text: str  # normalised
    kinds: tuple[InfoKind, ...]  # every kind asked, primary first; (OTHER,) when none is recognised
    subject: tuple[str, ...]  # content words naming the business object, canonical forms
    actions: tuple[str, ...]  # action classes (缴费, 办理, 安装…)
    customers: tuple[str, ...]  # customer types named (居民, 非居民, 高压, 农业)
    modifiers: tuple[str, ...] = ()  # narrowing words that are not a subject (农村, 夏天, 第二档)
    topic: tuple[str, ...] = ()  # the nouns of the subject (what the question is about)
    names: tuple[str, ...] = ()  # proper names of the subject: places, brands, organisations (上海, 特斯拉)

    @property
    def kind(self) -> InfoKind:
        return self.kinds[0]

    @property
    def self_contained(self) -> bool:
        """Names a thing of its own (燃气费怎么交), unlike an elliptical follow-up (那企业呢, 超过了怎么算)."""
        return bool(self.topic)


@dataclass(frozen=True)
class AnalysisRules:
    """The cues of ``kb/question_analysis.yaml``, compiled."""

    asks: tuple[tuple[InfoKind, re.Pattern[str] | None], ...]  # question words per kind, in priority order
    mentions: tuple[tuple[InfoKind, re.Pattern[str] | None], ...]  # nouns that name a kind without asking
    evidence: Mapping[InfoKind, re.Pattern[str] | None]
    actions: Mapping[str, str]  # surface word → action class
    customers: Mapping[str, str]  # surface word → customer type
    modifiers: frozenset[str]
    function_words: frozenset[str]
    action_modifiers: frozenset[str] = frozenset()  # 多, 少, 错…: fused with an action they make a subject of their own
    spoken_forms: Mapping[str, str] = field(default_factory=dict)  # 啥 → 什么: question words as spoken, and as written
    # per kind of figure (any figure; an amount of money): how a question asks for it (多少钱, 几天),
    # and how a text gives it (a number with its unit, 免费, 当天; for money an amount, a rate, 免费)
    figures: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = ()

    @classmethod
    def load(cls, path: Path) -> "AnalysisRules":
        """Read and compile the rules; raises ConfigError naming what is wrong."""
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
            kinds = [(InfoKind(name), cues) for name, cues in data["kinds"].items()]
            evidence = {InfoKind(name): _compile(patterns) for name, patterns in data["evidence"].items()}
            return cls(
                tuple((kind, _compile(cues.get("asks") or ())) for kind, cues in kinds),
                tuple((kind, _compile(cues.get("mentions") or ())) for kind, cues in kinds),
                evidence,
                _surfaces(data["actions"]),
                _surfaces(data["customers"]),
                frozenset(map(str, data.get("modifiers") or ())),
                frozenset(map(str, data.get("function_words") or ())),
                frozenset(map(str, data.get("action_modifiers") or ())),
                {str(k): str(v) for k, v in (data.get("spoken_forms") or {}).items()},
                _figure_rules(data.get("figures") or {}),
            )
        except FileNotFoundError:
            raise ConfigError(f"{path}: missing (expected in the kb configuration folder)") from None
        except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError, re.error) as error:
            raise ConfigError(f"{path}: cannot read the question-analysis rules ({error})") from error


def _figure_rules(figures: Mapping[str, Mapping[str, Iterable[str]]]) -> tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]:
    rules = []
    for name, cues in figures.items():
        asked, given = _compile(cues.get("asked") or ()), _compile(cues.get("given") or ())
        if asked is None or given is None:
            raise ValueError(f"figures.{name} needs both 'asked' and 'given'")
        rules.append((asked, given))
    return tuple(rules)


def _compile(patterns: Iterable[str]) -> re.Pattern[str] | None:
    patterns = list(patterns)
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _surfaces(classes: Mapping[str, Iterable[str]]) -> dict[str, str]:
    return {str(surface): str(name) for name, words in classes.items() for surface in words}


class QuestionAnalyser:
    """Analyses questions and texts with the domain lexicon's tokenizer and the analysis rules."""

    def __init__(self, rules: AnalysisRules, lexicon: Lexicon) -> None:
        self.rules = rules
        self.lexicon = lexicon
        self._parts: dict[str, tuple[str, ...]] = {}  # compound → its parts (``parts``), filled as met

    @classmethod
    def load(cls, config_dir: Path, lexicon: Lexicon) -> "QuestionAnalyser":
        return cls(AnalysisRules.load(config_dir / RULES_FILE), lexicon)

    @cached_property
    def _canonical(self) -> dict[str, str]:
        """Synonym-group members → the group's first word (电钱 → 电费, 没电 → 停电)."""
        return {word: group[0] for group in self.lexicon.synonym_groups for word in group}

    def analyse(self, text: str) -> QuestionAnalysis:
        """Kinds asked, subject, actions, customer types and modifiers of one question."""
        clean = normalize_query(text)
        subject: list[str] = []
        topic: list[str] = []
        names: list[str] = []
        actions: list[str] = []
        customers: list[str] = []
        modifiers: list[str] = []
        for word, flag in self._words(clean):
            if word in self.rules.actions:
                actions.append(self.rules.actions[word])
            elif word in self.rules.customers:
                customers.append(self.rules.customers[word])
            elif word in self.rules.modifiers:
                modifiers.append(word)
            elif len(word) >= 2 and _is_content(flag) and not self._is_function_word(word):
                subject.append(self.canonical(word))
                if _is_noun(flag):
                    topic.append(subject[-1])
                if flag[:2] in _PROPER:
                    names.append(word)
        return QuestionAnalysis(
            clean, self.kinds_asked(clean), _unique(subject), _unique(actions), _unique(customers), _unique(modifiers), _unique(topic), _unique(names)
        )

    def _is_function_word(self, word: str) -> bool:
        """How a question is phrased rather than what it is about (多少天 counts as 多久: both are)."""
        words = self.rules.function_words
        return word in words or word in self.lexicon.stopwords or self._canonical.get(word, word) in words

    def canonical(self, word: str) -> str:
        """The form a subject word is compared in: the dictionary entity it names (电表 → 电能表), else
        its synonym group's first word (电钱 → 电费), else itself."""
        entity = self.lexicon.by_surface.get(word)
        return self.lexicon.by_id[entity].name if entity else self._canonical.get(word, word)

    def parts(self, word: str) -> tuple[str, ...]:
        """The shorter words of two characters or more a compound is made of (优惠政策: 优惠, 政策;
        小企业: 企业), lower-cased; none for a word that is not a compound."""
        found = self._parts.get(word)
        if found is None:
            whole = word.lower()
            pieces = dict.fromkeys(self.lexicon.tokenizer.cut_for_search(whole))
            found = self._parts.setdefault(word, tuple(part for part in pieces if len(part) >= 2 and part != whole))
        return found

    @cached_property
    def _surfaces_of(self) -> dict[str, tuple[str, ...]]:
        table: dict[str, set[str]] = {}
        for entity in self.lexicon.entities:
            table.setdefault(entity.name, set()).update((entity.name, *entity.aliases))
        for group in self.lexicon.synonym_groups:
            table.setdefault(group[0], set()).update(group)
        return {word: tuple(sorted(forms, key=len, reverse=True)) for word, forms in table.items()}

    def surfaces(self, word: str) -> tuple[str, ...]:
        """Every way a canonical subject word may be written in a text (its aliases and synonyms)."""
        return self._surfaces_of.get(word, (word,))

    @cached_property
    def _lower_surfaces_of(self) -> dict[str, tuple[str, ...]]:
        return {word: tuple(s.lower() for s in forms) for word, forms in self._surfaces_of.items()}

    def lower_surfaces(self, word: str) -> tuple[str, ...]:
        """``surfaces(word)`` lower-cased, to look for in a lower-cased text."""
        return self._lower_surfaces_of.get(word) or (word.lower(),)

    @cached_property
    def _action_surfaces_of(self) -> dict[str, tuple[str, ...]]:
        table: dict[str, list[str]] = {}
        for surface, action in self.rules.actions.items():
            if len(surface) >= 2:
                table.setdefault(action, []).append(surface)
        return {action: tuple(surfaces) for action, surfaces in table.items()}

    def action_surfaces(self, action: str) -> tuple[str, ...]:
        """The words of two characters or more that write an action class (缴费: 缴纳, 交费…)."""
        return self._action_surfaces_of.get(action, ())

    def kinds_asked(self, text: str) -> tuple[InfoKind, ...]:
        """Every kind of information ``text`` asks for, the primary one first: the first kind whose
        question words it uses (as typed, or in their written form), else yes/no, else the first
        kind it only mentions."""
        texts = (text, self.written(text))
        asked = [kind for kind, pattern in self.rules.asks if pattern is not None and any(map(pattern.search, texts))]
        mentioned = [kind for kind, pattern in self.rules.mentions if pattern is not None and any(map(pattern.search, texts))]
        wh = [kind for kind in asked if kind is not InfoKind.YES_NO]
        ordered = wh + [InfoKind.YES_NO] * (InfoKind.YES_NO in asked) + mentioned
        return tuple(dict.fromkeys(ordered)) or (InfoKind.OTHER,)

    def written(self, text: str) -> str:
        """``text`` with spoken question words in their written form (要准备啥 → 要准备什么)."""
        for spoken, written in self.rules.spoken_forms.items():
            text = text.replace(spoken, written)
        return text

    def figure_missing(self, question: str, answer: str) -> bool:
        """The question asks for a figure (多少钱, 几天, 多久) and the answer gives none of that kind
        (多少钱 answered with a percentage or a time): whatever else it says, it does not answer."""
        return any(asked.search(question) and not given.search(answer) for asked, given in self.rules.figures)

    def evidence(self, text: str) -> frozenset[InfoKind]:
        """The kinds of information ``text`` holds (a price, a duration, channels…)."""
        return frozenset(kind for kind, pattern in self.rules.evidence.items() if pattern is not None and pattern.search(text))

    def holds(self, text: str, kind: InfoKind) -> bool:
        """Whether ``text`` holds information of ``kind`` (``kind in evidence(text)``, one pattern only)."""
        pattern = self.rules.evidence.get(kind)
        return pattern is not None and pattern.search(text) is not None

    def customers_in(self, text: str) -> frozenset[str]:
        """Customer types a text names."""
        return frozenset(kind for surface, kind in self.rules.customers.items() if surface in text)

    def _words(self, text: str) -> list[tuple[str, str]]:
        """(word, part-of-speech flag) of ``text``; a word that fuses an action with its object (交电费,
        装电表, 电费缴纳) is split in two, so it matches the same question asked in separate words."""
        words: list[tuple[str, str]] = []
        for token, flag in self.lexicon.tagged(text.lower()):
            token = token.strip()
            if not token or not _WORD.search(token):
                continue
            if words and words[-1][0] in self.rules.action_modifiers and token in self.rules.actions:
                words[-1] = (words[-1][0] + token, "vn")  # 多交, 少缴, 错交: another thing than paying
                continue
            words.extend(self._split_action(token, flag) if len(token) >= 3 and token not in self.rules.actions else [(token, flag)])
        return words

    def _split_action(self, token: str, flag: str) -> list[tuple[str, str]]:
        """交电费 → 交 + 电费, 电费缴纳 → 电费 + 缴纳; only when the rest is a word of the domain
        dictionary, so 充电桩 and 交易中心 stay whole."""
        for size in (2, 1):
            head, tail = token[:size], token[size:]
            if head in self.rules.actions and self._is_domain_word(tail):
                return [(head, "v"), (tail, "n")]
        head, tail = token[:-2], token[-2:]
        if tail in self.rules.actions and self._is_domain_word(head):
            return [(head, "n"), (tail, "v")]
        return [(token, flag)]

    def _is_domain_word(self, word: str) -> bool:
        return len(word) >= 2 and (word in self.lexicon.by_surface or word in self._canonical)


_PROPER = ("ns", "nr", "nz", "nt", "en")  # jieba's places, person and brand names, other proper nouns, organisations, Latin words


def _is_content(flag: str) -> bool:
    """Nouns, verbs, adjectives, Latin words and dictionary terms; not numbers, measure and time
    words, adverbs, pronouns, prepositions, localizers or particles (a question's details and grammar)."""
    return flag[:1] in ("n", "x", "j", "v", "a", "b", "i", "l") or flag == "eng"


def _is_noun(flag: str) -> bool:
    """Nouns, names, abbreviations, verbal nouns, Latin words and dictionary terms (tagged "x")."""
    return flag[:1] in ("n", "x", "j") or flag in ("vn", "eng")


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def idf(word: str, document_frequency: Mapping[str, int], size: int) -> float:
    """Inverse document frequency of ``word`` among ``size`` chunks (an unseen word weighs most)."""
    return math.log(1 + size / (1 + document_frequency.get(word, 0)))
