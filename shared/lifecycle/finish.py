"""Ending a job: with its result (the worker), as failed (worker or reconciler) or cancelled (its owner).

Each transition is one conditional UPDATE, so a job ends exactly once, and the one that ends it runs what
follows (``job_ended``) in the same transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from shared.auth.caller import Caller
from shared.jobs import lease, repository
from shared.jobs.intake import get_job
from shared.lifecycle.ending import delete_audio_after_commit, job_ended
from shared.models import Job, JobStatus
from shared.schemas.results import JobResult
from shared.storage import Storage


def complete_job(
    session: Session,
    storage: Storage,
    job_id: uuid.UUID,
    owner: str,
    result: JobResult,
    *,
    duration_s: float,
    truncated: bool,
) -> bool:
    if not lease.record_result(session, job_id, owner, result, duration_s=duration_s, truncated=truncated):
        return False
    job_ended(session, storage, job_id)
    return True


def fail_job(session: Session, storage: Storage, job_id: uuid.UUID, *, code: str, message: str) -> bool:
    if not repository.finish_unless_final(
        session, job_id, status=JobStatus.FAILED, error_code=code, error_message=message
    ):
        return False
    job_ended(session, storage, job_id)
    return True


def cancel_job(session: Session, storage: Storage, caller: Caller, job_id: uuid.UUID) -> Job:
    """Cancel a job that has not finished and drop its audio. A finished job is returned unchanged."""
    get_job(session, caller, job_id)
    if repository.finish_unless_final(session, job_id, status=JobStatus.CANCELLED):
        job_ended(session, storage, job_id)
    return get_job(session, caller, job_id)


def cancel_or_delete_job(session: Session, storage: Storage, caller: Caller, job_id: uuid.UUID) -> Job | None:
    """What ``DELETE`` means: a job still running is cancelled (its row stays, for the record) and its audio
    deleted; a finished job is deleted outright with its result, events and any audio still kept.
    Returns the cancelled job, or None once deleted."""
    job = get_job(session, caller, job_id)
    if not JobStatus(job.status).is_final:
        return cancel_job(session, storage, caller, job_id)
    delete_audio_after_commit(session, storage, job.audio_key)
    repository.delete(session, job_id)
    return None
