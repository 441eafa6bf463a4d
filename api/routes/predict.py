"""``POST /predict``: a synchronous answer for clients written against older emotion servers.

It is a job like any other (same queue, limits, ownership and retention) whose request waits for the
end, up to ``EMOQ_MAX_WAIT_SECONDS``. A job that has not ended by then answers 504 with its id and a
``Location`` to poll; it goes on running.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import CallerDep, SessionDep, SettingsDep, StorageDep
from api.forms import openapi_body
from api.submission import submit_job
from api.waiting import wait_for_job
from shared.db import commit_now
from shared.errors import JobEndedUnscored, JobUnfinished
from shared.models import JobStatus
from shared.schemas.jobs import MODEL_DESCRIPTION
from shared.schemas.predict import Prediction

router = APIRouter(tags=["compatibility"])


@router.post(
    "/predict",
    openapi_extra=openapi_body({"model": MODEL_DESCRIPTION}, None, files="file"),
    summary="Score one file and answer when done (compatibility with synchronous servers)",
    responses={
        422: {"description": "The job failed; `code` says why, as on the job"},
        504: {"description": "Not finished within EMOQ_MAX_WAIT_SECONDS; poll `Location`"},
    },
)
async def predict(
    request: Request, session: SessionDep, caller: CallerDep, settings: SettingsDep, storage: StorageDep
) -> Prediction:
    job, _ = await submit_job(
        request, session, caller, settings, storage, idempotency_key=None, allow_url=False
    )
    await run_in_threadpool(commit_now, session)
    read, final = await wait_for_job(job.id, settings.max_wait_seconds)
    if not final:
        raise JobUnfinished(
            f"the job did not finish within {settings.max_wait_seconds} s; it goes on", job_id=str(job.id)
        )
    if read.status != JobStatus.SUCCEEDED or read.result is None:
        code, message = (
            (read.error.code, read.error.message) if read.error else ("job_cancelled", "cancelled")
        )
        raise JobEndedUnscored(message, code=code, job_id=str(job.id))
    return Prediction(results=read.result.scores, dominant=read.result.dominant)
