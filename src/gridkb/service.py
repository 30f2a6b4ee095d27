"""The composition root: ``GridService`` builds every library service of gridkb from one ``Settings``
and is the one object the command line (``gridkb.cli``) and the HTTP API (``gridkb.api``) talk to.

It wires, it does not decide: each method is one call into the layer that owns the rule. Nothing is
built at import and little at construction: the service database, the models and the indexes are
opened on first use, so ``gridkb search`` never opens the database and ``gridkb ingest`` never loads
the answer models. The server opens the database at start (``open``) to refuse an unsafe one early.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridkb.config import Settings
from gridkb.errors import GridkbError, NotFoundError
from gridkb.records import Audience, IngestReport, Ticket
from gridkb.tickets.actions import Actor, TicketAction, TicketActionKind, apply_action

if TYPE_CHECKING:
    from gridkb.application.live import LiveKnowledgeBase
    from gridkb.application.qa import Answer
    from gridkb.application.recommend import Recommendations
    from gridkb.application.search import SearchHit
    from gridkb.chat.bot import BotReply
    from gridkb.chat.notices import NoticeBoard
    from gridkb.evaluation.runner import EvalRun
    from gridkb.ingest import Progress
    from gridkb.jobs import UploadJobs
    from gridkb.kb import KbStats
    from gridkb.organisation.report import OrganisationReport
    from gridkb.organisation.taxonomy import Taxonomy
    from gridkb.ratelimit import RateLimiter
    from gridkb.records import Conflict, Erasure, Feedback, IngestJob
    from gridkb.storage.backup import BackupReport, RestoreReport
    from gridkb.storage.service_db import ServiceStore
    from gridkb.tickets.desk import ServiceDesk
    from gridkb.tickets.erasure import ErasureService
    from gridkb.tickets.gaps import Gap
    from gridkb.tickets.keys import ApiKeys
    from gridkb.tickets.metrics import ServiceMetrics
    from gridkb.tickets.publish import KnowledgePublisher
    from gridkb.tickets.service import TicketService

__all__ = ["Actor", "Evaluation", "GridService", "TicketAction", "TicketActionKind"]

RETENTION_INTERVAL = 6 * 3600.0  # seconds between retention runs of a server
log = logging.getLogger("gridkb.service")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Evaluation:
    """One ``gridkb eval`` run, its report as Markdown, and where that report was written."""

    run: EvalRun
    markdown: str
    report: Path


class GridService:
    """Every service over one knowledge base (``settings.kb_dir``) and one service database."""

    def __init__(self, settings: Settings, store: ServiceStore | None = None, clock: Callable[[], datetime] = _now) -> None:
        """``store``: a service database already open (default: ``settings.service_database_url``);
        ``clock``: the time of the ticket and chat records (tests move it)."""
        self.settings = settings
        self.clock = clock
        if store is not None:
            self.store = store

    def open(self) -> None:
        """Open the service database and build the services over it now rather than on first use
        (the server does: a database that could lose data refuses the start with DurabilityError)."""
        _ = self.desk, self.keys, self.uploads, self.rate_limiter

    # --- the parts, each built once on first use

    @cached_property
    def live(self) -> LiveKnowledgeBase:
        """The knowledge base as served: the newest generation with its answerer and recommender."""
        from gridkb.application.live import LiveKnowledgeBase

        return LiveKnowledgeBase(self.settings)

    @cached_property
    def store(self) -> ServiceStore:
        """The service database: sessions, tickets, feedback, notices, keys, jobs, counters."""
        from gridkb.storage.service_db import ServiceStore

        return ServiceStore(self.settings.service_database_url)

    @cached_property
    def taxonomy(self) -> Taxonomy:
        from gridkb.organisation.taxonomy import Taxonomy

        return Taxonomy.from_config(self.settings.config_dir)

    @cached_property
    def tickets(self) -> TicketService:
        from gridkb.tickets.service import TicketService
        from gridkb.tickets.sla import ServiceLevels

        levels = ServiceLevels.load(self.settings.config_dir / "service_levels.yaml")
        return TicketService(self.store, levels, self.taxonomy, self.clock)

    @cached_property
    def notices(self) -> NoticeBoard:
        from gridkb.chat.notices import NoticeBoard

        return NoticeBoard(self.store, self.clock)

    @cached_property
    def desk(self) -> ServiceDesk:
        """The closed loop: the bot, escalation into tickets, feedback, gaps, metrics, recommendation."""
        from gridkb.tickets.desk import ServiceDesk

        return ServiceDesk(self.live, self.store, self.tickets, self.notices, self.clock)

    @cached_property
    def publisher(self) -> KnowledgePublisher:
        """Answers of resolved tickets, approved into the knowledge base."""
        from gridkb.tickets.publish import KnowledgePublisher

        return KnowledgePublisher(self.settings, self.tickets)

    @cached_property
    def keys(self) -> ApiKeys:
        """Agent and admin keys of the HTTP API (stored as hashes)."""
        from gridkb.tickets.keys import ApiKeys

        return ApiKeys(self.store, self.clock)

    @cached_property
    def erasure(self) -> ErasureService:
        """Erasure of a customer's data on request, and the retention run."""
        from gridkb.storage.personal_data import PersonalDataStore
        from gridkb.tickets.erasure import ErasureService

        return ErasureService(PersonalDataStore(self.store), self.clock, lambda: self.live.forget_queries())

    @cached_property
    def uploads(self) -> UploadJobs:
        """Documents uploaded through the API and their background ingests."""
        from gridkb.jobs import UploadJobs

        return UploadJobs(self.settings, self.store, self.clock)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """Requests per minute of each widget client, counted in Redis or the service database."""
        from gridkb.ratelimit import RateLimiter
        from gridkb.storage.counters import open_counters

        return RateLimiter(self.settings.widget_rate_per_minute, open_counters(self.settings.redis_url, self.store))

    # --- knowledge: read the served generation

    def kb_stats(self) -> KbStats:
        """The summary of the served generation; raises KnowledgeBaseMissingError before the first ingest."""
        return self.live.current().kb.stats()

    def search(self, query: str, k: int = 10, category: str | None = None, audience: Audience = Audience.PUBLIC) -> list[SearchHit]:
        """Hybrid search, reranked, of what ``audience`` may see."""
        return self.live.current().answerer.search(query, k=k, category=category, audience=audience)

    def ask(self, question: str, audience: Audience = Audience.PUBLIC) -> Answer:
        """One question answered with its sources and confidence, outside any conversation."""
        return self.live.current().answerer.answer(question, audience=audience)

    def recommend(self, question: str, k: int = 5, audience: Audience = Audience.PUBLIC) -> Recommendations:
        """Related and popular questions, popularity counted from the chat logs (the CLI's and the API's)."""
        return self.desk.recommend(question, k=k, audience=audience)

    def explore(self, entity: str) -> dict[str, Any]:
        """The knowledge graph around ``entity`` (nodes and edges); raises NotFoundError for an unknown entity."""
        from gridkb.application.explore import neighbourhood

        found = neighbourhood(self.live.current().kb, entity)
        if found is None:
            raise NotFoundError(f"知识图谱中没有“{entity}”")
        return found

    def kb_report(self) -> OrganisationReport:
        """Coverage, duplicate groups and conflicts, with the admins' rulings on conflicts applied."""
        from gridkb.organisation.report import build_report

        return build_report(self.live.current().kb, self.conflicts())

    # --- building: new generations

    def ingest(self, paths: Sequence[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders into a new generation. The answers published from tickets are
        always part of it, so a rebuild from the corpus keeps them."""
        from gridkb.ingest import ingest

        published = self.settings.published_path
        if published.is_dir() and published.resolve() not in {p.resolve() for p in paths}:
            paths = [*paths, published]
        return ingest(paths, self.settings, progress)

    def upload_documents(
        self, files: Sequence[tuple[str, bytes]], actor: str, audience: Audience | None = None,
        valid_from: date | None = None, valid_to: date | None = None,
    ) -> IngestJob:
        """Save uploaded ``(file name, bytes)`` (documents and ``.meta.yaml`` sidecars) and ingest them in
        the background; ``audience`` and the dates apply to documents that declare none. Raises
        FileTooLargeError and InvalidUploadError (e.g. a sidecar and ``audience`` that differ)."""
        from gridkb.production.uploads import UploadedFile, UploadMeta

        meta = UploadMeta(audience, valid_from, valid_to)
        return self.uploads.submit([UploadedFile(name, data) for name, data in files], meta, actor)

    def upload_job(self, job_id: str) -> IngestJob:
        """An upload's job with its progress; raises NotFoundError."""
        return self.uploads.get(job_id)

    def evaluate(
        self, log: Callable[[str], None], *, dataset: str, split: str | None, limit: int | None, baseline: bool,
        external_dir: Path, reports_dir: Path,
    ) -> Evaluation:
        """Evaluate retrieval and answers on ``dataset`` and write the report into ``reports_dir``;
        raises EvaluationError for an unknown dataset or split before building anything."""
        from gridkb.evaluation.report import to_markdown, write_reports
        from gridkb.evaluation.runner import EvalOptions, run

        options = EvalOptions(dataset=dataset, split=split, limit=limit, baseline=baseline, external_dir=external_dir, reports_dir=reports_dir)
        result = run(self.settings, options, log)
        return Evaluation(result, to_markdown(result), write_reports(result, reports_dir))

    # --- conversations and tickets

    def act_on_ticket(self, number: str, action: TicketAction, actor: Actor) -> Ticket:
        """One lifecycle or review action on a ticket (see ``gridkb.tickets.actions``)."""
        return apply_action(self.tickets, self.publisher, number, action, actor)

    # --- customers' personal data

    def erase(self, kind: str, value: str, actor: str) -> Erasure:
        """Delete a customer's personal data, found by ``kind`` (phone, session or ticket) ``value``;
        raises InvalidIdentifierError for a malformed one and NotFoundError when nothing matches."""
        from gridkb.tickets.erasure import CustomerIdentifier

        return self.erasure.erase(CustomerIdentifier.parse(kind, value), actor)

    def apply_retention(self, days: int) -> Erasure | None:
        """Delete what is older than ``days`` (conversations; tickets' personal fields); None when nothing was."""
        return self.erasure.apply_retention(days)

    # --- operations

    def backup(self, target: Path) -> BackupReport:
        """Copy the service database and the served generation into the new folder ``target``."""
        from gridkb.storage.backup import backup

        return backup(self.settings, target)

    def restore(self, source: Path) -> RestoreReport:
        """Restore a backup made by ``backup`` (the server must be stopped); raises BackupError."""
        from gridkb.storage.backup import restore

        return restore(self.settings, source)

    def start_background_tasks(self) -> Callable[[], None]:
        """Warm the models up and, with a retention period set, run the retention now and every few
        hours, in background threads; returns what stops them."""
        stop = threading.Event()
        threading.Thread(target=self._warm_up, name="gridkb-warm-up", daemon=True).start()
        days = self.settings.transcript_retention_days
        if days:
            threading.Thread(target=self._retention_loop, args=(days, stop), name="gridkb-retention", daemon=True).start()
        return stop.set

    def _warm_up(self) -> None:
        try:
            self.live.warm_up()
        except GridkbError as error:  # no knowledge base yet: the first request reports it
            log.warning("warm-up skipped: %s", error)

    def _retention_loop(self, days: int, stop: threading.Event) -> None:
        while True:
            try:
                self.apply_retention(days)
            except Exception:  # noqa: BLE001 - a failed run is logged and retried at the next interval
                log.exception("retention run failed")
            if stop.wait(RETENTION_INTERVAL):
                return

    # --- the closed loop's own calls, as the shells use them

    def chat(self, session_id: str | None, message: str, channel: str = "widget", audience: Audience = Audience.PUBLIC) -> BotReply:
        """One customer message; a new conversation when ``session_id`` is None."""
        return self.desk.chat(session_id, message, channel, audience)

    def feedback(
        self, session_id: str, message_id: str, helpful: bool | None = None, rating: int | None = None, comment: str = ""
    ) -> tuple[Feedback, Ticket | None]:
        """Feedback on a bot reply, with the ticket negative feedback opened."""
        return self.desk.feedback(session_id, message_id, helpful, rating, comment)

    def gaps(self, since: datetime | None = None) -> list[Gap]:
        """Knowledge gaps: clusters of unresolved and badly rated questions, biggest first."""
        return self.desk.gaps(since)

    def metrics(self, since: datetime | None = None, with_gaps: bool = True) -> ServiceMetrics:
        """Service metrics since ``since`` (all time by default)."""
        return self.desk.metrics(since, with_gaps)

    def conflicts(self) -> list[Conflict]:
        """The served generation's conflicts with the admins' rulings applied."""
        return self.desk.conflicts()

    def decide_conflict(self, conflict_id: str, preferred: str, actor: str, note: str = "") -> Conflict:
        """An admin's ruling on which statement of a conflict holds (raises ConflictDecisionError)."""
        return self.desk.decide_conflict(conflict_id, preferred, actor, note)
