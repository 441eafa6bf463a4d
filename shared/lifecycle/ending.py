"""What follows the end of a job, whichever way it ended, in the transaction that ended it."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from shared.config import get_settings
from shared.db import after_commit
from shared.jobs import metrics, repository
from shared.lifecycle.batch_completion import note_job_ended
from shared.models import EventType, JobStatus
from shared.schemas.jobs import JobRead
from shared.storage import Storage
from shared.webhooks.events import record_event


def delete_audio_after_commit(session: Session, storage: Storage, key: str | None) -> None:
    if key is not None:
        after_commit(session, lambda: storage.delete(key))


EVENT_FOR_STATUS = {
    JobStatus.SUCCEEDED: EventType.JOB_SUCCEEDED,
    JobStatus.FAILED: EventType.JOB_FAILED,
    JobStatus.CANCELLED: EventType.JOB_CANCELLED,
}


def job_ended(session: Session, storage: Storage, job_id: uuid.UUID) -> None:
    """What follows the end of a job, in the transaction that ended it: its audio goes (unless a retention
    period keeps it; the purge task removes it then), its webhook event is recorded, and its batch may now
    be complete."""
    job = repository.get(session, job_id)
    if job is None:
        return
    after_commit(session, metrics.count_finished(job))
    if job.audio_key is not None and get_settings().audio_retention_seconds == 0:
        key, job.audio_key = job.audio_key, None
        session.flush()
        delete_audio_after_commit(session, storage, key)
    if job.webhook_url is not None:
        # Only the event carries the result: a job without a webhook is not read twice.
        job = repository.get(session, job_id, with_result=True) or job
        record_event(
            session,
            type=EVENT_FOR_STATUS[JobStatus(job.status)],
            url=job.webhook_url,
            data=JobRead.from_job(job).model_dump(mode="json"),
            owner_key_id=job.owner_key_id,
            job_id=job.id,
        )
    if job.batch_id is not None:
        note_job_ended(session, job.batch_id)
