"""Conversation context, only when it belongs: an elliptical follow-up (那企业呢？, 那要多久？,
超过了怎么算) is rewritten with the earlier turns; a question that names a subject of its own
(燃气费怎么交, asked after two tariff questions) is a new topic and stands alone.

The rule rests on the question analysis: a follow-up is a message that names no thing of its own
(no noun beyond customer types, contrasts such as 农村/夏天 and question words), or one made of an
opener and a substitute (那充电桩呢). Only those borrow from the conversation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from gridkb.application.analysis import QuestionAnalyser, QuestionAnalysis
from gridkb.production.lexicon import Lexicon

SHORT_SUBSTITUTE = 8  # "专票呢": a thing named with 呢 and no question of its own, in a few characters
FOLLOW_UP_OPENER = re.compile(r"^(那么|那|还有|另外|如果是|如果|要是|换成|假如是|假如|换作|若是)")
_SUBSTITUTE_TAIL = re.compile(r"(的话)?(的)?(呢|怎么样|咋样|又如何|如何)?[？?。!！]*$")
_QUESTION_TAIL = re.compile(
    r"(需要|要|得|能|可以|可不可以|是否|会|该|应该|一般|大概)?(什么|啥|怎么|咋|怎样|如何|多少|多久|多长|哪|几|吗|是不是|要不要|能不能|有没有|会不会|可不可以).*$"
)
# terms that stand for one another in a follow-up ("那企业呢？" after a question about 居民)
CONTRASTS = (
    ("低压居民", "低压非居民", "高压单电源", "高压双电源", "居民", "非居民", "企业", "公司", "工厂", "厂里", "商铺", "商业", "工业",
     "小微企业", "单位", "个人", "高压", "低压", "自然人", "非自然人"),
    ("城区", "城市", "市区", "农村", "乡村", "山区", "偏远地区", "特殊边远地区"),
    ("单电源", "双电源"),
    ("夏天", "夏季", "冬天", "冬季", "平时", "5–10 月", "其他月份"),
    ("投诉", "举报", "意见建议", "建议"),
    ("第一档", "第二档", "第三档", "一档", "二档", "三档"),
    ("高峰", "平段", "低谷", "尖峰"),
)


class Scope(Protocol):
    """What the knowledge base is about, as the follow-up rule needs it."""

    def in_domain(self, text: str) -> bool:
        """Names power supply, or only words the knowledge base uses."""

    def names_power_supply(self, text: str) -> bool:
        """Names power supply itself (电, a domain term)."""

    def about_another_service(self, text: str) -> bool:
        """Asks about another service (燃气, 自来水, 天气) and names nothing of power supply."""

    def known_word(self, word: str) -> bool:
        """Occurs in the knowledge base."""


class FollowUpRewriter:
    """Rewrites elliptical follow-ups with the conversation so far; leaves new questions alone."""

    def __init__(self, analyser: QuestionAnalyser, lexicon: Lexicon, prepare: Callable[[str], str], scope: Scope | None = None) -> None:
        """``prepare``: the searcher's query normalisation (typos, pinyin), applied before analysis;
        ``scope``: what the knowledge base is about (without it, only the analysis decides)."""
        self.analyser = analyser
        self.lexicon = lexicon
        self.prepare = prepare
        self.scope = scope

    def is_follow_up(self, question: str) -> bool:
        """True when ``question`` needs the earlier turns to be understood: it names nothing of its
        own; or it names only words of the knowledge base that say nothing of power supply by
        themselves ("要是我家里线路坏了你们管修吗", "真的多收了咋办" after a question about a bill); or it
        only names a substitute ("那充电桩呢", "专票呢", "如果是农村的话"). A question of its own about
        another service (今天天气怎么样, 燃气费怎么交), or with a proper name (特斯拉), or with words the knowledge
        base never uses (宠物怎么养) stands alone."""
        prepared = self.prepare(question)
        analysis = self.analyser.analyse(prepared)
        elsewhere = self.scope is not None and self.scope.about_another_service(prepared)
        if not analysis.self_contained or self._names_only_guesses(prepared, analysis):
            return not elsewhere
        if not elsewhere and self.scope is not None and self._borrows_its_subject(prepared, analysis):
            return True
        substitute = _substitute(prepared)
        return substitute is not None and (bool(FOLLOW_UP_OPENER.match(prepared)) or len(substitute) <= SHORT_SUBSTITUTE)

    def _names_only_guesses(self, prepared: str, analysis: QuestionAnalysis) -> bool:
        """Every noun of the question is the tokenizer's guess, a word its dictionary (jieba's and the
        domain terms) does not hold: 能装 of 多久能装好 names no thing of its own. The knowledge base's
        words do not tell, as its texts were cut with the same guesses (才能装表); a question that names
        power supply by itself (谷电几点开始) is one of its own."""
        if analysis.names or (self.scope is not None and self.scope.names_power_supply(prepared)):
            return False
        return not any(map(self.lexicon.in_dictionary, analysis.topic))

    def _borrows_its_subject(self, prepared: str, analysis: QuestionAnalysis) -> bool:
        assert self.scope is not None
        if analysis.names or self.scope.in_domain(prepared):
            return False
        return any(self.scope.known_word(word) for word in analysis.topic)

    def rewrite(self, question: str, history: Sequence[str]) -> str:
        """``question`` made self-contained with ``history`` (the earlier questions as rewritten,
        oldest first), or unchanged when it is not a follow-up.

        - "那企业呢？" after "居民新装要多久": the contrasting term is swapped ("企业新装要多久");
        - "那充电桩呢？" after "峰谷电价怎么算": the new thing takes the old one's place ("充电桩怎么算");
          a place or brand qualifies the earlier question ("河南的呢" → "河南工厂电费怎么算");
        - otherwise the subject of the last turn that named one is carried over ("要多久？" after
          "居民新装要什么资料" → "业扩报装要多久？").
        """
        if not history or not self.is_follow_up(question):
            return question
        prepared = self.prepare(question)
        previous = history[-1]
        if swapped := swap_contrast(prepared, previous):
            return swapped
        substitute = _substitute(prepared)
        named = self.analyser.analyse(substitute) if substitute else None
        if named and named.self_contained:
            if named.names:  # a place or brand qualifies the earlier question ("河南的呢")
                return substitute + previous
            if replaced := self._replace_topic(previous, substitute):  # a new thing takes the old one's place
                return replaced
            if ask := _ask_of(self.prepare(previous)):
                return substitute + ask
        elif named and (named.customers or named.modifiers):
            # a customer type or a narrowing word the earlier question lacks qualifies it whole
            # ("那企业呢" after "峰谷电价怎么算" → "企业峰谷电价怎么算"), rather than losing its ask
            return substitute + previous
        current = self.lexicon.linked_entities(prepared)
        for earlier in reversed(history):
            entities = self.lexicon.linked_entities(self.prepare(earlier))
            if entities:
                carried = [self.lexicon.by_id[e].name for e in entities if e not in current]
                business = [n for n in carried if self.lexicon.by_id[f"ent:{n}"].type == "business"] or carried[:1]
                return "".join(business[:2]) + FOLLOW_UP_OPENER.sub("", prepared)
        return f"{previous}，{question}"  # no named topic: the previous question is the context


    def _replace_topic(self, previous: str, substitute: str) -> str | None:
        """The earlier question with its first named thing replaced ("电子发票在哪下", "专票" → "专票在哪下")."""
        for word in self.analyser.analyse(self.prepare(previous)).topic:
            surface = next((s for s in self.analyser.surfaces(word) if s in previous), None)
            if surface:
                return previous.replace(surface, substitute, 1)
        return None


def _substitute(follow_up: str) -> str | None:
    """The X of "那X呢" / "如果是X的话", or None when the follow-up asks a question of its own."""
    focus = _SUBSTITUTE_TAIL.sub("", FOLLOW_UP_OPENER.sub("", follow_up)).strip("，, ")
    if not focus or (_QUESTION_TAIL.search(focus) and not follow_up.rstrip("？?").endswith("呢")):
        return None
    return focus


def _ask_of(question: str) -> str:
    """The question part of an earlier question ("峰谷电价怎么算" → "怎么算")."""
    match = _QUESTION_TAIL.search(question)
    return match.group(0) if match else ""


def swap_contrast(follow_up: str, previous: str) -> str | None:
    """"那企业呢？" after "居民新装要多久" → "企业新装要多久": the follow-up's term replaces the one of
    the same contrast group in the previous question."""
    focus = _substitute(follow_up)
    if focus is None:
        return None
    for group in CONTRASTS:
        new = next((term for term in group if term in focus), None)
        if new is None:
            continue
        old = next((term for term in sorted(group, key=len, reverse=True) if term in previous and term not in focus), None)
        if old is not None:
            return previous.replace(old, focus, 1)
    return None
