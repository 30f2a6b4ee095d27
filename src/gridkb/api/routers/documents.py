"""Documents uploaded into the knowledge base, ingested in the background; the job says how far it got."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi import Path as PathParam

from gridkb.api import schemas
from gridkb.api.deps import Allowed, AppSettings, Service
from gridkb.api.errors import error_responses
from gridkb.labels import label
from gridkb.records import Audience, IngestJob

router = APIRouter(tags=["knowledge"])
DateField = Annotated[date | None, Form(description="YYYY-MM-DD, for documents that declare none")]


@router.post("/api/documents", response_model=schemas.JobOut, status_code=202)
def upload(
    who: Allowed,
    service: Service,
    settings: AppSettings,
    files: Annotated[list[UploadFile], File(description="documents, each optionally with its `<file>.meta.yaml` sidecar")],
    audience: Annotated[Literal["public", "internal"] | None, Form(description="for documents that declare none; default internal")] = None,
    valid_from: DateField = None,
    valid_to: DateField = None,
) -> schemas.JobOut:
    """Upload documents and ingest them in the background; poll ``/api/documents/{job_id}``. A document
    is internal unless its sidecar, its front matter or ``audience`` says public (422 when they differ)."""
    # read no more than one byte past the limit: the library refuses what is over it (413)
    received = [(f.filename or "", f.file.read(settings.max_file_bytes + 1)) for f in files]
    job = service.upload_documents(received, who.name, Audience(audience) if audience else None, valid_from, valid_to)
    return _job_out(job)


@router.get("/api/documents/{job_id}", response_model=schemas.JobOut, responses=error_responses(404))
def job(job_id: Annotated[str, PathParam(max_length=64)], who: Allowed, service: Service) -> schemas.JobOut:
    return _job_out(service.upload_job(job_id))


def _job_out(job: IngestJob) -> schemas.JobOut:
    return schemas.JobOut(
        id=job.id, status=job.status.value, files=list(job.files), stage=job.stage, done=job.done, total=job.total,
        created_at=job.created_at, finished_at=job.finished_at, report=job.report.to_dict() if job.report else {},
        error=job.error, status_label=label(job.status), stage_label=label(job.stage) if job.stage else "",
    )
