"""Display fields the API adds next to the codes: Chinese labels (``gridkb.labels``), a ticket's
history as a readable timeline and the actions it allows now, the organisation report with titles
and states. Codes stay in the responses for machines; people read these.
"""

from __future__ import annotations

from typing import Any

from gridkb.labels import action_label, category_name, label
from gridkb.organisation.report import OrganisationReport
from gridkb.organisation.taxonomy import Taxonomy
from gridkb.records import Conflict, Role, Ticket, TicketEvent, TicketOrigin, TicketStatus
from gridkb.tickets.service import TRANSITIONS, next_actions

_ACTORS = {"bot": "智能客服", "customer": "客户", "system": "系统"}
_GROUNDS = {"department": "本部门工单", "supervisor": "主管权限", "system": "系统"}  # why an assignment was allowed
_ORIGINS = {o.value for o in TicketOrigin}  # bare codes are shared between enums ("agent", "urgent"): name the enum


def ticket_statuses() -> list[dict[str, Any]]:
    """The ticket lifecycle as the state machine's one owner defines it, for the console's filters."""
    return [
        {"code": s.value, "label": label(s), "finished": s.finished, "next": [t.value for t in TRANSITIONS.get(s, ())]}
        for s in TicketStatus
    ]


def ticket_labels(ticket: Ticket, taxonomy: Taxonomy, role: Role, overdue: bool) -> dict[str, Any]:
    """The Chinese display fields of ``ticket`` as ``role`` may see it (already masked by ``TicketService.view``)."""
    actions = [(a, s) for a, s in next_actions(ticket) if role is Role.ADMIN or a not in ("approve", "reject")]
    return {
        "status_label": label(ticket.status), "priority_label": label(ticket.priority), "origin_label": label(ticket.origin),
        "queue_label": label(ticket.queue), "channel_label": label(ticket.channel), "publication_label": label(ticket.publication) if ticket.publication.value else "",
        "category_name": category_name(ticket.category, taxonomy), "overdue": overdue and not ticket.status.finished,
        "next_actions": [{"action": a, "status": s, "label": action_label(a, s)} for a, s in actions],
        "timeline": [_timeline_entry(e) for e in ticket.events],
    }


def _timeline_entry(event: TicketEvent) -> dict[str, Any]:
    return {
        "at": event.at, "actor": event.actor, "actor_label": _ACTORS.get(event.actor, event.actor),
        "action": event.action, "action_label": label(event.action),
        "summary": _summary(event),
    }


def _summary(event: TicketEvent) -> str:
    """What happened, in a sentence: 状态 新建 → 已分诊；备注：…"""
    detail = event.detail or {}
    parts: list[str] = []
    if event.action == "created":
        origin = str(detail.get("origin", ""))
        parts.append(f"来源：{label(TicketOrigin(origin)) if origin in _ORIGINS else label(origin)}")
        parts += [f"{name}：{value}" for name, key in (("原因", "reason"), ("归口部门", "department")) if (value := detail.get(key))]
    elif event.action == "assigned":
        grounds = _GROUNDS.get(str(detail.get("grounds", "")), "")
        parts.append(f"分派给 {detail.get('assignee', '')}" + (f"（本人领取：{grounds}）" if detail.get("self") else ""))
    elif event.action == "routed":
        parts.append(f"归口部门 {detail.get('from', '')} → {detail.get('to', '')}")
    elif event.action == "resolved" and detail.get("publish"):
        parts.append("答复提交发布到知识库，待管理员审核")
    elif event.action not in ("transition", "note", "contacted", "approved", "rejected"):
        parts += [f"{label(k)}：{v}" for k, v in detail.items() if isinstance(v, (str, int, float)) and v != "" and k != "note"]
    if event.from_status and event.to_status and event.from_status != event.to_status:
        parts.append(f"状态 {label(event.from_status)} → {label(event.to_status)}")
    if note := str(detail.get("note", "")).strip():
        parts.append(f"备注：{note}")
    return "；".join(parts)


def report_view(report: OrganisationReport, taxonomy: Taxonomy) -> dict[str, Any]:
    """The organisation report with each conflict's id, state and the titles of its documents, and
    each duplicate group's canonical item and copies by title."""
    data = report.to_dict()
    titles = report.chunk_titles
    data["conflicts"] = [_conflict_view(c, titles) for c in report.conflicts]
    for group in data["duplicates"]:
        group["items"] = [
            {"chunk_id": m, "title": titles.get(m, m), "text": report.chunk_text.get(m, ""), "canonical": m == group["canonical"]}
            for m in group["members"]
        ]
    for row in data["coverage"]:
        row["name"] = category_name(row["code"], taxonomy)
    return data


def conflict_state(conflict: Conflict) -> str:
    """undecided (待人工裁决), decided by an admin (已人工裁决), or settled by the documents (已由新文件取代)."""
    if not conflict.preferred:
        return "undecided"
    return "decided" if conflict.decided_by else "superseded"


def _conflict_view(conflict: Conflict, titles: dict[str, str]) -> dict[str, Any]:
    state = conflict_state(conflict)
    return conflict.to_dict() | {
        "id": conflict.id, "state": state, "state_label": label(state), "reason_label": _reason(conflict, titles),
        "statements": [
            s.to_dict() | {"title": titles.get(s.chunk_id, s.source), "preferred": s.chunk_id == conflict.preferred}
            for s in conflict.statements
        ],
    }


def _reason(conflict: Conflict, titles: dict[str, str]) -> str:
    """Why a statement holds, in Chinese (the build writes its reasons for the log, in English)."""
    if not conflict.preferred:
        return "各文件的日期和取代关系无法判定哪一个正确，需要管理员裁决"
    if conflict.decided_by:
        return f"{conflict.decided_by} {conflict.reason}"
    winner = titles.get(conflict.preferred, conflict.preferred).split(" › ")[0]
    if "supersedes" in conflict.reason:
        return f"《{winner}》取代了旧文件"
    if "expired" in conflict.reason:
        return f"其他文件已失效，以《{winner}》为准"
    return f"以生效日期最新的《{winner}》为准"
