"""What a chat message wants besides (or instead of) an answer from the knowledge base.

A message can be small talk (greeting, thanks, chit-chat), a request for a human agent, a
complaint, an urgent danger, a power-cut report, or a question. Complaints, dangers and outage
reports often carry a question too ("想投诉你们供电所的人，打哪个电话"), so those are flags on
top of answering, not replacements for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from gridkb.production.normalize import normalize_query


class Intent(str, Enum):
    QUESTION = "question"
    GREETING = "greeting"
    THANKS = "thanks"
    CHITCHAT = "chitchat"
    HUMAN = "human"
    COMPLAINT = "complaint"
    URGENT = "urgent"
    OUTAGE = "outage"  # "我家停电了", "人民路没电了": check the notices first
    CONTACT = "contact"  # a reply within the contact collection after a handoff (a phone number, an address, 不用了)


_END = r"[\s!！。.？?~～,，、…]*$"
_GREETING = re.compile(r"^(你好|您好|hi|hello|哈喽|嗨|在吗|在不在|有人吗|早上好|上午好|中午好|下午好|晚上好|喂)(啊|呀|哈)?" + _END, re.I)
_THANKS = re.compile(
    r"^(好的)?[，, ]?(谢谢|多谢|感谢|谢了|辛苦了|thanks|thank you|好的|好|ok|明白了|知道了|懂了|了解了|没问题了|没有了|没事了|解决了)"
    r"(你|您|啦|了|哈)?(谢谢|，?再见|拜拜)?" + _END,
    re.I,
)
_CHITCHAT = re.compile(
    r"^(你是谁|你叫什么(名字)?|你是(机器人|人工智能|AI|真人)吗|你是真人还是机器人|你好(笨|聪明|厉害)|你几岁了?|"
    r"你会(干|做)什么|你能(干|做)什么|哈+|呵+|嘿嘿|无聊|再见|拜拜|晚安)" + _END,
    re.I,
)
_HUMAN = re.compile(r"转人工|人工客服|人工服务|找人工|接人工|要人工|转接人工|真人客服|找真人|和人说|跟人说|客服人员接|让人工|人工坐席")
_COMPLAINT = re.compile(
    r"我要投诉|我想投诉|要投诉|投诉你们|投诉一下|我投诉|态度(太|很|非常|极其)?(差|恶劣|不好|蛮横)|太差劲|差评|骂人|不作为|推诿|踢皮球|乱收费|"
    r"拖了.{0,4}(天|周|星期|个月)|一直没(人|有人)?(来|处理|回复|联系)|到现在(都|还)没(人|有)?(来|修|处理|联系)|等了.{0,6}(小时|天).{0,6}(没|还)"
)
_URGENT = re.compile(
    r"触电|电到人|被电(到|击|了)|电击|电线.{0,4}(断|掉|落|垂|拖地|打火|冒火)|断落|电线杆.{0,3}(倒|断|歪)|冒烟|起火|着火|失火|火花|"
    r"打火|爆炸|炸了|烧焦|焦糊味|变压器.{0,4}(响|爆|烧)|漏电.{0,6}(麻|电人|危险)|高压线.{0,6}(掉|断|落|碰)|"
    r"树.{0,6}(碰|压|挂|搭|倒|缠|烧).{0,4}(电线|线上|高压)|树障|"
    r"(配电房|变压器|电表箱|表箱|配电箱|电箱|电缆|电杆|插座).{0,6}(水淹|被淹|淹了|浸水|泡水|进水)|(水淹|被淹|淹到|泡水).{0,6}(配电房|变压器|电表箱|表箱|配电箱|插座)"
)
_OUTAGE = re.compile(r"停电了|没电了|断电了|没有电了|突然停电|又停电|停电(啦|呢|吗|啊)|怎么停电|为什么停电|什么时候(来电|复电|恢复供电|通电)|啥时候来电|几点来电")


@dataclass(frozen=True)
class Detected:
    intent: Intent  # the main intent
    complaint: bool = False
    urgent: bool = False
    outage: bool = False
    human: bool = False
    hypothetical: bool = False  # "如果有人触电怎么办": safety instructions, but nobody to send


_HYPOTHETICAL = re.compile(r"^(如果|万一|要是|假如|假设|若)|(的话|时)(应该|要|该)?(怎么办|怎么处理|如何处理)")


def detect(message: str) -> Detected:
    """The intent of one chat message (normalised first: traditional, full-width, noise)."""
    text = normalize_query(message).strip()
    urgent = bool(_URGENT.search(text))
    complaint = bool(_COMPLAINT.search(text))
    human = bool(_HUMAN.search(text))
    outage = bool(_OUTAGE.search(text))
    if urgent:
        return Detected(Intent.URGENT, complaint, True, outage, human, hypothetical=bool(_HYPOTHETICAL.search(text)))
    if human:
        return Detected(Intent.HUMAN, complaint, False, outage, True)
    if complaint:
        return Detected(Intent.COMPLAINT, True, False, outage)
    if outage:
        return Detected(Intent.OUTAGE, outage=True)
    for pattern, intent in ((_GREETING, Intent.GREETING), (_THANKS, Intent.THANKS), (_CHITCHAT, Intent.CHITCHAT)):
        if pattern.match(text):
            return Detected(intent)
    return Detected(Intent.QUESTION)


_FILLER = re.compile(r"都不是|人工|客服|服务|坐席|真人|人员|说话|请|帮我|给我|帮忙|麻烦|我要|我想|我需要|需要|能不能|能否|可以|可不可以|直接|马上|赶紧|赶快|快点?|一下|你好|您好|谢谢|还是|"
                     r"转|接|找|吗|吧|啊|呀|了|的|[\s!！。.？?~～,，、…]")


def handoff_only(message: str) -> bool:
    """A request for a human with no question of its own ("我要转人工", "麻烦帮我转人工客服")."""
    text = normalize_query(message)
    if not _HUMAN.search(text):
        return False
    return len(_FILLER.sub("", _HUMAN.sub("", text))) < 2
