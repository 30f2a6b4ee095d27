"""Learning from resolutions: an agent resolves a ticket with an answer and marks it "publish"; it
waits as a draft FAQ entry until an admin approves it (recorded in the ticket's history); then the
question and answer become a curated FAQ entry of the knowledge base, with its provenance (ticket
number, agent, approver, dates), ingested incrementally: only the new entry is parsed and embedded,
the indexes switch to a new generation atomically, and every worker picks it up on its next request.

Published entries are files in ``settings.published_path`` (beside the knowledge base), so a full
rebuild from the corpus keeps them; personal data is masked before anything reaches the index.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import yaml

from gridkb.config import Settings
from gridkb.errors import TicketError
from gridkb.ingest import ingest
from gridkb.moments import CHINA
from gridkb.privacy import mask_personal_data
from gridkb.records import IngestReport, Publication, Ticket
from gridkb.tickets.service import TicketService



def published_file(directory: Path, number: str) -> Path:
    return directory / f"{number}.json"


class KnowledgePublisher:
    def __init__(self, settings: Settings, tickets: TicketService) -> None:
        self.settings = settings
        self.tickets = tickets

    @property
    def directory(self) -> Path:
        return self.settings.published_path

    def approve(self, number: str, approver: str) -> tuple[Ticket, IngestReport]:
        """Publish a draft entry into the knowledge base and record the approval in the ticket."""
        ticket = self.tickets.get(number)
        if ticket.publication is not Publication.DRAFT:
            raise TicketError(f"工单 {number} 没有待审核的知识条目（需先以“发布到知识库”解决工单）")
        if not ticket.status.finished:
            raise TicketError(f"工单 {number} 尚未解决，不能发布")
        path = self._write(ticket, approver, self.tickets.clock())
        report = ingest([self.directory], self.settings)
        failure = next((f for f in report.failed if Path(f.path).name == path.name), None)
        if failure is not None:
            path.unlink(missing_ok=True)
            raise TicketError(f"发布失败：{failure.reason}")
        detail = {"file": path.name, "generation": report.generation}
        return self.tickets.set_publication(number, Publication.PUBLISHED, approver, detail), report

    def reject(self, number: str, approver: str, reason: str) -> Ticket:
        return self.tickets.set_publication(number, Publication.REJECTED, approver, {"reason": reason})

    def _write(self, ticket: Ticket, approver: str, now: datetime) -> Path:
        resolver = next((e.actor for e in reversed(ticket.events) if e.action == "resolved"), "")
        question = mask_personal_data(ticket.question)
        answer = mask_personal_data(ticket.resolution)
        payload = {
            "title": f"工单答复 {ticket.number}",
            "faqs": [{"question": question, "answer": answer, "category": ticket.category}],
            "provenance": {
                "ticket": ticket.number,
                "agent": resolver,
                "approved_by": approver,
                "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
                "approved_at": now.isoformat(),
                "department": ticket.department,
            },
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        path = published_file(self.directory, ticket.number)
        meta = {
            "title": f"工单答复：{question[:40]}",
            "audience": "public",
            "doc_type": "工单答复",
            "issuer": ticket.department,
            "valid_from": now.astimezone(CHINA).date().isoformat(),
        }
        tmp = self.directory.parent / f".{path.name}.tmp"  # outside the folder an ingest reads
        tmp.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
        path.with_name(path.name + ".meta.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
        tmp.replace(path)
        return path
