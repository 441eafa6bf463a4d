from __future__ import annotations

import base64
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.deps import CallerDep, SessionDep, SettingsDep, StorageDep
from api.forms import openapi_body, parse_http_url, parse_metadata
from api.intake import check_webhook, job_from_file, job_from_url
from api.uploads import receive_form
from shared.config import Settings
from shared.db import on_rollback
from shared.errors import InvalidRequest, UploadTooLarge
from shared.jobs import intake, repository
from shared.jobs.admission import refuse_if_full
from shared.jobs.intake import NewJob
from shared.lifecycle import finish
from shared.models import JobStatus
from shared.schemas.jobs import JobFromUrl, JobPage, JobRead
from shared.storage import Storage, storage_key

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

UPLOAD_BODY = openapi_body(
    {
        "audio_url": "Instead of a file: http(s) URL of the audio",
        "metadata": "A small JSON object, kept with the job",
        "webhook_url": "http(s) URL notified when the job ends",
    },
    JobFromUrl,
    files="file",
)
# Multipart framing adds a little to the audio itself.
ENVELOPE_BYTES = 64 * 1024
# A hard memory cap on any form field; the precise metadata limit is checked afterwards, with its own code.
FIELD_BYTES_FACTOR = 2


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=UPLOAD_BODY,
    summary="Submit audio (a file, or a URL the worker fetches) for analysis",
    responses={413: {"description": "Too large"}, 415: {"description": "Not audio"}},
)
async def create_job(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    storage: StorageDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JobRead:
    if idempotency_key is None:
        # A retry with a key may be a replay, which creates nothing and is never refused.
        await run_in_threadpool(refuse_if_full, session, caller)
    if request.headers.get("content-type", "").startswith("application/json"):
        new = await _job_from_json(request)
    else:
        new = await _job_from_form(request, session, settings, storage)
    await run_in_threadpool(check_webhook, new.webhook_url, caller, settings)
    job, created = await run_in_threadpool(
        intake.create_job, session, caller, replace(new, idempotency_key=idempotency_key)
    )
    if not created:
        if new.blob is not None:
            storage.delete(new.blob.key)
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobRead.from_job(job)


async def _job_from_json(request: Request) -> NewJob:
    try:
        body = JobFromUrl.model_validate_json(await request.body())
    except ValidationError as exc:
        raise InvalidRequest('send {"audio_url": ...} or a multipart upload', code="invalid_body") from exc
    return replace(
        job_from_url(body.audio_url),
        metadata=body.metadata,
        webhook_url=parse_http_url(body.webhook_url, field="webhook_url"),
    )


async def _job_from_form(request: Request, session: Session, settings: Settings, storage: Storage) -> NewJob:
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.max_upload_bytes + ENVELOPE_BYTES:
        raise UploadTooLarge(f"the upload exceeds the limit of {settings.max_upload_bytes} bytes")
    job_id = uuid.uuid4()
    form = await receive_form(
        request,
        storage,
        new_key=lambda: storage_key(job_id),
        max_file_bytes=settings.max_upload_bytes,
        file_fields=frozenset({"file"}),
        max_files=1,
        max_field_bytes=FIELD_BYTES_FACTOR * max(settings.max_metadata_bytes, 2048),
    )
    for received in form.files:
        if received.blob is not None:
            on_rollback(session, lambda key=received.blob.key: storage.delete(key))
    audio_url = form.fields.get("audio_url")
    if form.files and audio_url:
        raise InvalidRequest("send either a file or an audio_url, not both", code="file_and_url")
    if form.files:
        new = await job_from_file(form.files[0], storage, settings)
        if new.error is not None:
            raise new.error
    elif audio_url:
        new = job_from_url(audio_url)
    else:
        raise InvalidRequest("attach the audio as a multipart file field named 'file'", code="missing_file")
    return replace(
        new,
        metadata=parse_metadata(form.fields.get("metadata"), max_bytes=settings.max_metadata_bytes),
        webhook_url=parse_http_url(form.fields.get("webhook_url"), field="webhook_url"),
    )


@router.get("/{job_id}", summary="A job's status and, once done, its result")
def read_job(
    job_id: uuid.UUID,
    session: SessionDep,
    caller: CallerDep,
    segments: Annotated[bool, Query(description="Include the timeline of windows")] = True,
) -> JobRead:
    return JobRead.from_job(intake.get_job(session, caller, job_id), with_segments=segments)


@router.get("", summary="List the caller's jobs, newest first")
def list_jobs(
    session: SessionDep,
    caller: CallerDep,
    status_: Annotated[JobStatus | None, Query(alias="status")] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    segments: bool = False,
) -> JobPage:
    filters = repository.JobFilter(status=status_, created_after=created_after, created_before=created_before)
    jobs = repository.list_page(session, caller, filters, after=decode_cursor(cursor), limit=limit + 1)
    page, more = jobs[:limit], len(jobs) > limit
    return JobPage(
        items=[JobRead.from_job(job, with_segments=segments) for job in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    )


@router.delete(
    "/{job_id}",
    response_model=JobRead,
    summary="Cancel a running job and delete its audio; delete a finished job with its result",
    responses={204: {"description": "The finished job, its result and its audio were deleted"}},
)
def delete_job(
    job_id: uuid.UUID, session: SessionDep, caller: CallerDep, storage: StorageDep
) -> JobRead | Response:
    job = finish.cancel_or_delete_job(session, storage, caller, job_id)
    return JobRead.from_job(job) if job is not None else Response(status_code=status.HTTP_204_NO_CONTENT)


def encode_cursor(created_at: datetime, job_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{job_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, job_id = raw.split("|")
        return datetime.fromisoformat(created_at), uuid.UUID(job_id)
    except ValueError as exc:
        raise InvalidRequest("invalid cursor", code="invalid_cursor") from exc
