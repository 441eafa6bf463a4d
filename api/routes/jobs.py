from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.deps import CallerDep, SessionDep, SettingsDep, StorageDep
from api.forms import openapi_body
from api.pagination import decode_cursor, split_page
from api.submission import submit_job
from api.waiting import requested_wait, wait_for_job
from shared.auth.caller import Caller
from shared.db import commit_now
from shared.jobs import intake, repository
from shared.lifecycle import finish
from shared.models import JobStatus
from shared.schemas.jobs import FEATURES_DESCRIPTION, MODEL_DESCRIPTION, JobFromUrl, JobPage, JobRead

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

UPLOAD_BODY = openapi_body(
    {
        "audio_url": "Instead of a file: http(s) URL of the audio",
        "metadata": "A small JSON object, kept with the job",
        "webhook_url": "http(s) URL notified when the job ends",
        "model": MODEL_DESCRIPTION,
        "features": FEATURES_DESCRIPTION + ": true or false",
        "transcribe": "true: also transcribe the speech, with its emotion (needs EMOQ_ASR_MODEL)",
    },
    JobFromUrl,
    files="file",
)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=UPLOAD_BODY,
    summary="Submit audio (a file, or a URL the worker fetches) for analysis",
    description="With `Prefer: wait=N` (RFC 7240) the answer waits up to N seconds, at most"
    " `EMOQ_MAX_WAIT_SECONDS`: 200 with the finished job and `Preference-Applied`, else the usual 202.",
    responses={
        200: {"description": "Finished within the wait asked for with `Prefer: wait=N`"},
        413: {"description": "Too large"},
        415: {"description": "Not audio"},
    },
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
    job, created = await submit_job(request, session, caller, settings, storage, idempotency_key)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    wait = requested_wait(request.headers.getlist("prefer"), cap=settings.max_wait_seconds)
    if wait is None:
        return JobRead.from_job(job)
    # The job must be committed, and its task sent, before anything can finish it.
    await run_in_threadpool(commit_now, session)
    read, final = await wait_for_job(job.id, wait)
    if final:
        response.status_code = status.HTTP_200_OK
        response.headers["Preference-Applied"] = f"wait={wait}"
    return read


@router.get(
    "/{job_id}",
    summary="A job's status and, once done, its result",
    description="With `Prefer: wait=N` (RFC 7240) the answer waits until the job has ended, up to N"
    " seconds (at most `EMOQ_MAX_WAIT_SECONDS`), with `Preference-Applied` if it has: a client that"
    " needs the answer soon asks once instead of polling.",
)
async def read_job(
    job_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    segments: Annotated[bool, Query(description="Include the timeline of windows")] = True,
) -> JobRead:
    wait = requested_wait(request.headers.getlist("prefer"), cap=settings.max_wait_seconds)
    if wait is None:
        return await run_in_threadpool(_read, session, caller, job_id, segments)
    job = await run_in_threadpool(intake.get_job, session, caller, job_id)
    # Nothing is held while waiting: the session's transaction ends here.
    await run_in_threadpool(commit_now, session)
    read, final = await wait_for_job(job.id, wait, with_segments=segments)
    if final:
        response.headers["Preference-Applied"] = f"wait={wait}"
    return read


def _read(session: Session, caller: Caller, job_id: uuid.UUID, with_segments: bool) -> JobRead:
    return JobRead.from_job(intake.get_job(session, caller, job_id), with_segments=with_segments)


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
    page, next_cursor = split_page(jobs, limit)
    return JobPage(
        items=[JobRead.from_job(job, with_segments=segments) for job in page],
        next_cursor=next_cursor,
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
