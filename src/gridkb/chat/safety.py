"""Safety advice that fits the danger a customer reports.

A burning smell at home needs the main switch off and no water on the fire; a fallen wire outdoors
needs everyone 8 metres away; someone electrocuted needs the power cut before anyone touches them.
Each situation is answered from the knowledge base (the safety material of the corpus, with its
citation) by asking the corpus's own question for it; the built-in essentials are given only when
the knowledge base has nothing that says them (``marker`` not in the answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from gridkb.application.qa import Answer, QuestionAnswerer
from gridkb.production.normalize import normalize_query
from gridkb.records import Audience

HEADING = "【安全提示】"


class Danger(str, Enum):
    ELECTROCUTION = "electrocution"
    FLOODING = "flooding"
    TREE = "tree"
    INDOOR_SMOKE = "indoor_smoke"
    FALLEN_WIRE = "fallen_wire"  # and the other hazards outdoors: a leaning pole, a smoking transformer


@dataclass(frozen=True)
class Guide:
    danger: Danger
    pattern: re.Pattern[str]
    question: str  # the corpus's question for the situation: its answer is the advice
    marker: str  # what the advice must say to fit (else the essentials below are given)
    essentials: str
    category: str  # who acts on the ticket: outage (repair dispatch) or safety


_INDOOR_PLACE = r"(家|屋|室内|房间|卧室|客厅|厨房|卫生间|插座|插头|开关|电器|墙|表箱|电表|电箱|空开|楼道)"
_FIRE = r"(冒烟|起火|着火|失火|火花|打火|冒火|烧起来)"

GUIDES = (  # in order of precedence: a life at risk first
    Guide(
        Danger.ELECTROCUTION, re.compile(r"触电|电到(人|了)|被电(到|击|了|伤|晕)|电击|电伤|电晕"), "发现有人触电怎么办？", "120",
        "先切断电源，或用干燥的木棍、塑料等绝缘物挑开电线，不可直接用手拉触电者；脱离电源后立即拨打 120 并进行心肺复苏。", "safety",
    ),
    Guide(
        Danger.FLOODING, re.compile(r"水淹|被淹|淹了|淹到|浸水|泡水|泡在水|进水|积水|漫水|内涝|水浸|涨水"), "配电房、电表箱或家里被水淹了怎么办？", "淹",
        "不要蹚水靠近被淹的配电房、变压器、电表箱，有电线落入水中的远离至少 8 米；家中进水时在人不站在水中的前提下拉下总开关，已被淹的不要自行操作，撤离到高处并拨打 95598。",
        "outage",
    ),
    Guide(
        Danger.TREE, re.compile(r"树.{0,8}(碰|压|挂|搭|靠|贴|倒|缠|刮|擦|挨|触|烧)|树障|电线.{0,6}树"), "树木碰到电线怎么处理？", "树",
        "远离碰线的树木，不要攀爬、摇晃或自行修剪，拨打 95598 报告具体位置，由供电企业处理。", "outage",
    ),
    Guide(
        Danger.INDOOR_SMOKE, re.compile(rf"烧焦|焦糊|焦味|糊味|{_INDOOR_PLACE}.{{0,10}}{_FIRE}|{_FIRE}.{{0,6}}{_INDOOR_PLACE}"),
        "室内闻到电线烧焦味或看到冒烟怎么办？", "总开关",
        "立即拉下总开关断电；不要用水灭火，可用干粉灭火器；开窗通风，远离冒烟处；火势扩大立即撤离并拨打 119。", "safety",
    ),
    Guide(
        Danger.FALLEN_WIRE, re.compile(r".*"), "看到电线掉在地上怎么办？", "8 米",
        "请立即远离危险点至少 8 米，不要靠近或触碰断落的电线、倾斜的电杆、冒烟的设备，并拨打 95598 或 110。", "outage",
    ),
)
_YES_NO = re.compile(r"^(不可以|不能|不行|可以|能)[。，,]\s*")  # the opener of an FAQ asked as a yes/no question


@dataclass(frozen=True)
class Advice:
    danger: Danger
    text: str  # begins with the heading
    answer: Answer | None  # the knowledge base's answer it came from (sources, category), None for the essentials
    category: str


def classify_danger(message: str) -> Guide:
    """The situation a danger report describes (anything unrecognised is treated as a hazard outdoors)."""
    text = normalize_query(message)
    return next(g for g in GUIDES if g.pattern.search(text))


def advise(message: str, answerer: QuestionAnswerer) -> Advice:
    """Safety advice for the danger in ``message``, from the knowledge base when it has it."""
    guide = classify_danger(message)
    answer = answerer.answer(guide.question, audience=Audience.PUBLIC)
    if answer.resolved and answer.sources and guide.marker in answer.answer:
        return Advice(guide.danger, HEADING + _YES_NO.sub("", answer.answer), answer, guide.category)
    return Advice(guide.danger, HEADING + guide.essentials, None, guide.category)
