"""Chinese display labels: the one place that turns codes (enum values, reasons, relation names,
taxonomy codes) into the words agents and customers read. Codes stay in the data and in the API for
machines; the console, the CLI and the API's ``*_label`` fields show these.

``label(value)`` accepts an enum member or its string value; an unknown code falls back to itself,
so a new code shows up (in English) rather than disappearing.
"""

from __future__ import annotations

from enum import Enum

from gridkb.application.guards import AbstainReason
from gridkb.chat.intents import Intent
from gridkb.organisation.taxonomy import UNKNOWN, Taxonomy
from gridkb.records import Audience, Priority, Publication, Queue, Role, TicketOrigin, TicketStatus

# Every member of these enums must have a label here (tests/test_labels.py checks it).
ENUM_LABELS: dict[type[Enum], dict[str, str]] = {
    TicketStatus: {
        "new": "新建", "triaged": "已分诊", "assigned": "已分派", "in_progress": "处理中",
        "resolved": "已解决", "closed": "已关闭", "reopened": "已重开",
    },
    Priority: {"urgent": "紧急", "high": "高", "normal": "普通", "low": "低"},
    Queue: {"knowledge": "知识缺口", "service": "客户服务", "urgent": "紧急抢修"},
    TicketOrigin: {
        "abstained": "机器人无法回答", "handoff": "转人工", "complaint": "投诉", "urgent": "紧急危险",
        "negative_feedback": "客户差评", "agent": "坐席创建",
    },
    Publication: {"": "不发布", "draft": "待审核", "published": "已发布", "rejected": "已驳回"},
    Role: {"customer": "客户", "agent": "坐席", "admin": "管理员", "system": "系统"},
    Audience: {"public": "公开", "internal": "内部"},
    AbstainReason: {
        "empty": "空问题", "gibberish": "无法理解", "injection": "违规指令", "account_specific": "需查询本人账户",
        "out_of_scope": "超出服务范围", "outside_service_area": "营业区外", "not_in_knowledge_base": "知识库无答案",
    },
    Intent: {
        "question": "咨询", "greeting": "问候", "thanks": "致谢", "chitchat": "闲聊", "human": "转人工",
        "complaint": "投诉", "urgent": "紧急危险", "outage": "停电报告", "contact": "留联系方式",
    },
}

# Codes that are plain strings, not enums: how an answer was made, ticket history actions, knowledge
# graph relations and node kinds, notice kinds.
OTHER_LABELS: dict[str, str] = {
    # answer reasons (besides AbstainReason)
    "faq": "常见问题", "extractive": "文档摘录", "llm": "大模型生成", "clarify": "追问澄清", "notice": "停电公告",
    "ask_area": "询问地点",
    # ticket history actions
    "created": "创建工单", "transition": "状态变更", "routed": "改派部门", "contacted": "已联系客户",
    "note": "备注", "approved": "审核通过", "rejected": "已驳回",
    # knowledge graph relations
    "contains": "包含", "answered_by": "解答于", "mentions": "提及", "states": "规定数值", "has_quantity": "数值",
    "defined_in": "定义于", "same_as": "即", "in_category": "属于分类", "supersedes": "取代",
    "duplicate_of": "重复于", "related": "相关", "co_occurs": "共现", "conflicts": "冲突",
    # knowledge graph node kinds
    "document": "文件", "section": "章节", "chunk": "段落", "entity": "实体", "term": "术语", "quantity": "数值",
    "category": "分类",
    # notice kinds
    "planned_outage": "计划停电", "fault_outage": "故障停电", "tariff": "电价调整", "other": "其他",
    # ticket channels (besides "agent")
    "widget": "在线客服", "feedback": "客户评价", "phone": "电话", "console": "控制台",
    # document import jobs and their stages
    "queued": "排队中", "running": "导入中", "done": "已完成", "failed": "失败", "parse": "解析文件", "embed": "计算向量",
    "organise": "分类整理", "index": "建立索引", "graph": "构建图谱",
    # conflict states
    "superseded": "已由新文件取代", "undecided": "待人工裁决", "decided": "已人工裁决",
}

_BY_CODE: dict[str, str] = {code: text for table in ENUM_LABELS.values() for code, text in table.items()}
# where two enums share a code ("urgent"), the ticket's own words win for a bare string
_BY_CODE.update(OTHER_LABELS)
_BY_CODE.update({"urgent": "紧急", "complaint": "投诉", "handoff": "转人工", "resolved": "已解决", "assigned": "已分派"})


def label(value: Enum | str | None) -> str:
    """The Chinese label of an enum member or a code; an unknown code is returned as it is."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        table = ENUM_LABELS.get(type(value))
        if table is not None and value.value in table:
            return table[value.value]
        value = str(value.value)
    if value.startswith("safety+"):  # a danger reply that also answered from the knowledge base
        return "安全提示+" + label(value.removeprefix("safety+"))
    return _BY_CODE.get(value, value)


# what an agent may do to a ticket (the PATCH API's actions), as button captions
_ACTIONS: dict[str, str] = {
    "transition:triaged": "分诊", "transition:in_progress": "开始处理", "transition:closed": "关闭",
    "transition:reopened": "重开", "assign": "分派…", "resolve": "解决", "route": "改派部门…",
    "contacted": "已联系客户", "approve": "批准发布到知识库", "reject": "驳回发布", "note": "添加备注…",
}


def action_label(action: str, status: str = "") -> str:
    """The caption of a ticket action ("transition" to "closed" → 关闭); unknown ones as they are."""
    return _ACTIONS.get(f"{action}:{status}" if status else action, label(status) if status else action)


def category_name(code: str | None, taxonomy: Taxonomy) -> str:
    """The taxonomy's Chinese name of a category code ("connection" → "业扩报装（新装、增容）");
    "unknown" or empty is 未分类; a code not in the taxonomy is returned as it is."""
    if not code or code == UNKNOWN:
        return "未分类"
    category = taxonomy.get(code)
    return category.name if category else code
