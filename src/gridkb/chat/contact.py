"""Collecting how to reach the customer after a ticket is opened in the chat.

When the bot hands a conversation to people, it asks whether the customer wants a call back
(需要回电 / 不用了), takes a phone number (validated), and, for power cuts and dangers, the address
or 户号; then it confirms the ticket and when to expect contact. The steps still to go are stored
on the bot's message (``ChatMessage.step``, e.g. "phone,address"), so the conversation, not the
process, remembers where it is. A customer may decline any step, or leave the flow by asking
something else: the ticket stays, with what was given so far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from gridkb.production.normalize import normalize_query

ACCEPT = "需要回电"
DECLINE = "不用了"
SKIP_ADDRESS = "不方便提供"
CONSENT = "隐私提示：号码仅用于本工单的回访联系，除负责处理的工作人员外均脱敏显示。"
OFFER = "需要工作人员回电联系您吗？"
ASK_PHONE = "请留下您的联系电话（手机号，或带区号的座机号）。\n" + CONSENT
ASK_PHONE_URGENT = "方便留一个联系电话吗？抢修人员到场前可能需要与您联系。\n" + CONSENT
ASK_ADDRESS = "请告诉我具体地址（街道、小区、楼栋门牌号）或 10 位户号，方便工作人员尽快找到位置。"
BAD_PHONE = "号码格式不正确：手机号为 1 开头的 11 位数字，座机号请带区号（如 0755-12345678）。"
BAD_ADDRESS = "地址太简略：请写明街道、小区和门牌号，或输入 10 位户号。"
PROGRESS = "可凭工单号拨打 95598 或在南网在线 APP「我的办件」查询处理进度。"

_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_LANDLINE = re.compile(r"^(010|02\d|0[3-9]\d{2})([1-9]\d{6,7})$")  # area code (010 and 02x have three digits), local number
_PHONE_NOISE = re.compile(r"[\s\-－—()（）]|^(?:我的)?(?:电话|手机|号码|联系电话|手机号)(?:号码)?(?:是|为)?[:：]?")
_ACCEPT = re.compile(r"^(需要回电|需要|要|好|好的|可以|行|是|是的|嗯|对|麻烦了?|请回电|回电|打给我|联系我|转人工)(吧|的|呀|啊)?[。!！.]*$")
_DECLINE = re.compile(r"^(不用了?|不需要|不要|算了|不必了?|没事了?|不方便(提供)?|暂不提供|不想留|跳过|不留|不了)(吧|的|呀|啊|，?谢谢)?[。!！.]*$")
_ACCOUNT = re.compile(r"^\d{10}$")  # 户号: 10 digits on the bill
_PLACE = re.compile(r"路|街|道|巷|弄|号|村|镇|乡|区|县|市|小区|社区|花园|苑|园|庭|府|城|大厦|楼|栋|幢|单元|室|广场|公寓|宿舍|厂|校|站")
_QUESTION = re.compile(r"[?？]|怎么|如何|为什么|什么|多少|哪里|哪个|吗$|呢$")


class Step(str, Enum):
    OFFER = "offer"  # 需要回电 / 不用了
    PHONE = "phone"
    ADDRESS = "address"


class Kind(str, Enum):
    """What the customer's message was, at the step the conversation waits for."""

    ACCEPTED = "accepted"  # yes to a call back
    DECLINED = "declined"
    PHONE = "phone"
    ADDRESS = "address"
    INVALID = "invalid"  # meant as the answer, but unusable: asked again with ``error``
    LEFT = "left"  # something else entirely: answered as a new message


@dataclass(frozen=True)
class Reading:
    kind: Kind
    value: str = ""  # the normalised phone number or the address
    error: str = ""


def plan(urgent: bool, outage: bool) -> tuple[Step, ...]:
    """The steps after a ticket is opened: a danger needs the place first; a power cut the place too."""
    if urgent:
        return (Step.ADDRESS, Step.PHONE)
    return (Step.OFFER, Step.PHONE, Step.ADDRESS) if outage else (Step.OFFER, Step.PHONE)


def dump(steps: tuple[Step, ...]) -> str:
    return ",".join(s.value for s in steps)


def load(stored: str) -> tuple[Step, ...]:
    """The steps stored on a bot message ("" or an unknown value: nothing pending)."""
    try:
        return tuple(Step(s) for s in stored.split(",") if s)
    except ValueError:
        return ()


def parse_phone(text: str) -> str | None:
    """A mainland mobile (13812345678) or a landline with its area code (0755-12345678), or None."""
    compact = _PHONE_NOISE.sub("", normalize_query(text).strip())
    if match := _MOBILE.match(compact):
        return match.group(1)
    if match := _LANDLINE.match(compact):
        return f"{match.group(1)}-{match.group(2)}"
    return None


def read(step: Step, message: str) -> Reading:
    """What ``message`` means at ``step``."""
    text = normalize_query(message).strip()
    if _DECLINE.match(text):
        return Reading(Kind.DECLINED)
    if step is Step.OFFER:
        if _ACCEPT.match(text):
            return Reading(Kind.ACCEPTED)
        phone = parse_phone(text) if re.search(r"\d{5}", text) else None
        return Reading(Kind.PHONE, phone) if phone else Reading(Kind.LEFT)
    if step is Step.PHONE:
        return _read_phone(text)
    return _read_address(text, message.strip())


def _read_phone(text: str) -> Reading:
    if phone := parse_phone(text):
        return Reading(Kind.PHONE, phone)
    if re.search(r"\d", text) or not re.search(r"[\u4e00-\u9fff]", text):
        return Reading(Kind.INVALID, error=BAD_PHONE)
    return Reading(Kind.LEFT)  # Chinese words and no digits: a new question, not a number


def _read_address(text: str, original: str) -> Reading:
    if _ACCOUNT.match(text):
        return Reading(Kind.ADDRESS, f"户号 {text}")
    if _QUESTION.search(text) and not _PLACE.search(text):
        return Reading(Kind.LEFT)
    meaningful = re.findall(r"[\u4e00-\u9fffA-Za-z0-9]", text)
    if len(meaningful) < 4 or len(text) > 200 or not _PLACE.search(text):
        return Reading(Kind.INVALID, error=BAD_ADDRESS)
    return Reading(Kind.ADDRESS, original)  # as the customer wrote it


@dataclass(frozen=True)
class Prompt:
    """What the customer sees at a step: the question, buttons to choose from, and the input wanted."""

    text: str
    choices: tuple[str, ...] = ()
    input: str = ""  # "phone" | "address" | ""


def prompt(step: Step, urgent: bool = False) -> Prompt:
    if step is Step.OFFER:
        return Prompt(OFFER, (ACCEPT, DECLINE))
    if step is Step.PHONE:
        return Prompt(ASK_PHONE_URGENT if urgent else ASK_PHONE, (DECLINE,), "phone")
    return Prompt(ASK_ADDRESS, (SKIP_ADDRESS,), "address")
