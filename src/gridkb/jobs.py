"""Upload jobs: documents sent through the HTTP API are saved beside the knowledge base and ingested
in the background, with their progress recorded in the service database so that any worker answers
"how far is my upload?". The API only reads the request and polls the job; everything else is here.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from gridkb.config import Settings
from gridkb.errors import FileTooLargeError, GridkbError, NotFoundError
from gridkb.production.documents import SourceRoot
from gridkb.production.uploads import UploadedFile, UploadMeta, save_upload
from gridkb.records import IngestJob, IngestReport, JobStatus

if TYPE_CHECKING:  # the SQL store is imported where it is built (it loads SQLAlchemy)
    from gridkb.storage.service_db import ServiceStore

PROGRESS_EVERY = 10  # items between progress writes to the database
log = logging.getLogger("gridkb.jobs")
# one ingest at a time in this process, whichever app started it; ingests of other processes are
# refused by the knowledge base's writer lock and fail their job with its message
_INGEST_LOCK = threading.Lock()


class UploadJobs:
    """Saves uploads, records their jobs and runs each ingest in a background thread."""

    def __init__(self, settings: Settings, store: ServiceStore, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock

    def submit(self, files: Sequence[UploadedFile], meta: UploadMeta, actor: str) -> IngestJob:
        """Save ``files`` (documents and their sidecars) and start ingesting them; the queued job.
        Raises FileTooLargeError for a file over the size limit and InvalidUploadError for what cannot be saved."""
        for upload in files:
            if len(upload.data) > self.settings.max_file_bytes:
                raise FileTooLargeError(upload.name, f"超过 {self.settings.max_file_mb:g} MB")
        job_id = uuid.uuid4().hex
        folder = self.settings.uploads_path / job_id
        names = save_upload(files, meta, folder)
        self.store.add_job(job_id, names, actor, self.clock())
        threading.Thread(target=self.run, args=(job_id, folder), name=f"gridkb-ingest-{job_id[:8]}", daemon=True).start()
        return self.get(job_id)

    def get(self, job_id: str) -> IngestJob:
        """The job ``job_id``; raises NotFoundError when there is none."""
        job = self.store.job(job_id)
        if job is None:
            raise NotFoundError("没有这个导入任务")
        return job

    def run(self, job_id: str, folder: Path) -> None:
        """Ingest the uploads in ``folder`` as job ``job_id``, recording its progress and outcome; a job that
        dies records why (a library error's message, or the kind of an unexpected one) instead of raising."""
        from gridkb.ingest import ingest

        try:
            with _INGEST_LOCK:
                self.store.update_job(job_id, status=JobStatus.RUNNING)
                # keyed <uploads folder>/<file name>: a corrected file of the same name replaces the earlier
                # upload; an upload adds, it never removes the documents of earlier uploads
                uploads = SourceRoot(folder, self.settings.uploads_path.name, complete=False)
                report = ingest([uploads], self.settings, _JobProgress(self.store, job_id))
            failed = [f"{Path(f.path).name}: {f.reason}" for f in report.failed]
            status = JobStatus.FAILED if failed and not report.added and not report.updated else JobStatus.DONE
            self._finish(job_id, status, "; ".join(failed), report)
        except GridkbError as error:
            self._finish(job_id, JobStatus.FAILED, str(error))
        except Exception as error:  # noqa: BLE001 - a background job must record why it died
            log.exception("ingest job %s failed", job_id)
            self._finish(job_id, JobStatus.FAILED, f"内部错误：{type(error).__name__}")

    def _finish(self, job_id: str, status: JobStatus, error: str, report: IngestReport | None = None) -> None:
        self.store.update_job(job_id, status=status, finished_at=datetime.now(timezone.utc), error=error, report=report)


class _JobProgress:
    """The build pipeline's progress protocol, written into the job's row every few items."""

    def __init__(self, store: ServiceStore, job_id: str) -> None:
        self.store, self.job_id = store, job_id
        self.done: dict[str, int] = {}
        self.totals: dict[str, int] = {}

    def start(self, stage: str, total: int) -> None:
        self.done[stage], self.totals[stage] = 0, total
        self.store.update_job(self.job_id, stage=stage, done=0, total=total)

    def advance(self, stage: str, amount: int = 1) -> None:
        self.done[stage] = self.done.get(stage, 0) + amount
        if self.done[stage] % PROGRESS_EVERY == 0 or self.done[stage] >= self.totals.get(stage, 0):
            self.store.update_job(self.job_id, stage=stage, done=self.done[stage])
