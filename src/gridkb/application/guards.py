"""Questions the knowledge base must not answer from documents, recognised before retrieval:
empty or gibberish input, instructions aimed at the bot (prompt injection), and questions about the
customer's own account. Each gets an honest reply and the next step instead of a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from gridkb.production.normalize import normalize_query


class AbstainReason(str, Enum):
    EMPTY = "empty"
    GIBBERISH = "gibberish"
    INJECTION = "injection"
    ACCOUNT = "account_specific"
    OUT_OF_SCOPE = "out_of_scope"
    OUTSIDE_AREA = "outside_service_area"  # about another utility's area (application/area.py)
    UNKNOWN = "not_in_knowledge_base"


NEXT_STEP = "如需进一步帮助，可以转人工客服，或拨打 95598 供电服务热线，我们会为您创建工单跟进。"
MESSAGES = {
    AbstainReason.EMPTY: "您好，请问有什么用电问题需要咨询？可以直接描述您的问题，例如“电费怎么交”。",
    AbstainReason.GIBBERISH: "抱歉，没能理解您的问题。请用一句话描述您想咨询的用电业务，例如“新装电表需要什么资料”。",
    AbstainReason.INJECTION: "抱歉，我只能解答供电服务相关的问题，无法执行这类指令。",
    AbstainReason.ACCOUNT: "这个问题需要查询您本人的用电账户信息，我无法直接查看。请登录南网在线 APP 查询，或转人工客服核实。",
    AbstainReason.OUT_OF_SCOPE: "抱歉，这个问题超出了供电服务的范围，我暂时无法解答。",
    AbstainReason.UNKNOWN: "抱歉，知识库中暂时没有这个问题的可靠答案，我不想给您不准确的信息。",
    AbstainReason.OUTSIDE_AREA: "抱歉，您问的地区不在本供电营业区内，请咨询当地供电企业。",
}

_INJECTION = re.compile(
    r"忽略|无视|忘记.{0,6}(指令|规则|设定|提示)|ignore\s+(all|any|previous|the\s+above)|disregard|system\s*[:：]|"
    r"你现在是|扮演|角色扮演|假装你|提示词|系统提示|prompt|jailbreak|越狱|开发者模式|DAN\b|管理员权限|"
    r"(所有|全部)(用户|客户).{0,8}(手机号|电话|身份证|信息|数据)|输出.{0,6}(你的|系统).{0,6}(设定|指令|提示)|"
    r"写一首|写一篇|用英文|翻译成|讲个笑话|知识库原文|全部输出|导出成|新指令|你不再是|API\s*密钥|内部配置|已被攻破|"
    # someone else's personal data, internal documents, the bot's internals
    r"(发给我|发我|告诉我|列出|给我).{0,12}(户主姓名|身份证号|手机号码?|住址|联系方式)|(户主姓名|身份证号).{0,12}(发给我|发我|告诉我)|"
    r"(内部文件|内部规范|内部资料|内部员工系统).{0,16}(全文|发给?我|告诉我|账号|密码)|全文发我|原始\s*chunk|debug\s*=|调试模式|"
    r"verbatim|repeat\s+everything|your\s+instructions|"
    # misuse: scraping other customers, tampering with meters, stealing electricity
    r"爬取|爬虫|批量(获取|抓取|下载).{0,10}(用户|客户)|其他用户的|少走字|不走字|倒走|不被(查|发现)|绕过电表|偷电|"
    r"教我.{0,8}(窃电|改电表|私接)|不用管法律|不许(再)?引用",
    re.I,
)
_ACCOUNT = re.compile(
    r"(我|我家|我们家|俺家|本户)(的)?(上个?月|这个?月|本月|今年|去年|最近|现在|目前)?.{0,6}"
    r"(电费|用电量|用了多少|欠|余额|账单).{0,8}(多少|几|怎么这么|为什么|咋)|"
    r"(我|我家|我们家)(的)?(户号|账户|账号|电表号)(是|是多少|多少)|"
    r"我(的|家的)?(工单|申请|报装|业务).{0,4}(办|处理|进行)?到(哪|什么)|"
    r"(查|看|帮我查|查一下|查询)(一下)?(我|我家|我们家)(的)?(电费|用电|余额|欠费|账单|工单|户号)|"
    r"为什么(我家|我的|我们家).{0,10}(电费|用电).{0,6}(高|多|贵|涨)|"
    r"(我家|我的)(电费|用电量)(比|怎么|为什么)|"
    r"(我|我家|我们家)(的|家)?.{0,10}(余额(还)?(剩|有)?多少|(还)?(剩|有)多少余额|签约成功|到账了|读数是多少|用了多少度|审批通过|通过了没|是不是已经开通|绑定了哪|处理结果|用到第几档|交了多少)|"
    # an account, order or meter named by its number
    r"(户号|账号|账户|工单号?|申请号|表号|订单号?)\s*[:：是为]?\s*[A-Za-z]{0,4}\d{5,}|"
    # a particular household, relative or business of the asker, and the state of its affairs
    r"(我家的|我们这户|这户|我那个|我那边|我妈|我爸|我父母|我老家|我们公司|我们厂|我们单位|我们店).{0,20}"
    r"(是不是已经|是不是因为欠费|已经.{0,6}了[没吗]|了没有?|出来没|到哪一?步|约在哪天|哪天(会|能|到)|什么时候(能|会|到|上门))|"
    # a particular past event of the asker's: an application, a payment, a bill, a reading
    r"(上次|昨天|前天|前两天|上周.?|上个?月|这个?月|本月|上个?季度|提交.{0,3}天了|申请了.{0,3}天).{0,20}"
    r"(申请|交的|报的|账单|上网电量|电量|读数|需量|校验|退费|预存|到账|结果|勘查|多了|少了).{0,16}"
    r"(没有|了没|出来|多少|为什么|什么时候|哪天|上门|准不准)|"
    r"(申请|工单|报修|材料)(已经)?提交(了)?.{0,3}天了|"
    # an order, complaint or project reference such as TF20250603017 or PV-2025-0417
    r"(?<![A-Za-z])[A-Za-z]{2,4}-?\d{4}-?\d{3,}|"
    # the state of one household's affairs, whoever's they are
    r"余额(还)?(剩|有)多少|(还)?(剩|有)多少余额|(用到|到了?)(阶梯)?第几档了|"
    r"(扣款?|签约|签上|到账|批下来|审批)(成功)?(了)?(没有|没|了吗)|"
    # "look up / confirm …" an account matter for me, rather than asking how something works
    r"(帮我|帮忙|麻烦|请)(你)?(查|看|确认|核实|核对)(一下|下)?(?!.{0,20}(怎么|如何|需要什么|哪些|流程)).{0,14}"
    r"(户号|账户|账单|电费|欠费|余额|电表|申请|工单|进度|需量|电量|名下)",
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORDY = re.compile(r"[A-Za-z]{2,}|\d+|[\u4e00-\u9fff]")


def check(question: str) -> AbstainReason | None:
    """The reason to refuse answering from documents, or None when retrieval should decide."""
    text = normalize_query(question)
    meaningful = _WORDY.findall(text)
    if len("".join(meaningful)) < 2 or (len(_CJK.findall(text)) == 1 and len(text) <= 2):
        return AbstainReason.EMPTY
    if _INJECTION.search(text):
        return AbstainReason.INJECTION
    if _ACCOUNT.search(text):
        return AbstainReason.ACCOUNT
    if re.search(r"(.)\1{5,}", text) or (not _CJK.search(text) and not _looks_like_words(text)):
        return AbstainReason.GIBBERISH
    return None


def _looks_like_words(text: str) -> bool:
    """Latin text that could be pinyin or English words (vowels, not one long consonant run)."""
    letters = re.findall(r"[A-Za-z]+", text)
    if not letters:
        return False
    vowels = sum(1 for w in letters for ch in w.lower() if ch in "aeiouv")
    total = sum(len(w) for w in letters)
    return vowels / total >= 0.25 and not any(len(w) > 18 for w in letters)


@dataclass(frozen=True)
class Refusal:
    reason: AbstainReason
    message: str

    @classmethod
    def of(cls, reason: AbstainReason) -> "Refusal":
        tail = "" if reason in (AbstainReason.EMPTY, AbstainReason.GIBBERISH, AbstainReason.OUTSIDE_AREA) else NEXT_STEP
        return cls(reason, MESSAGES[reason] + tail)
