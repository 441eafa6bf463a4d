"""Job life cycle in domain terms. Functions here flush; whoever opened the session commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.audio import AudioInfo
from shared.db import after_commit
from shared.errors import Conflict, NotFound
from shared.jobs import repository
from shared.jobs.queue import enqueue_analysis
from shared.models import Job, JobResultRow, JobStatus
from shared.models.base import utcnow
from shared.schemas.results import JobResult
from shared.storage import Storage, StoredBlob


@dataclass(frozen=True)
class NewJob:
    id: uuid.UUID
    blob: StoredBlob
    info: AudioInfo
    filename: str | None
    content_type: str | None
    metadata: dict[str, Any] | None
    webhook_url: str | None
    idempotency_key: str | None


def create_job(session: Session, new: NewJob) -> tuple[Job, bool]:
    """Record an accepted upload and queue it. Returns the job and whether it is new.

    A retried submission with the same idempotency key returns the first job; the same key with other
    audio is a client error rather than a silent mix-up.
    """
    if new.idempotency_key is not None:
        existing = repository.get_by_idempotency_key(session, new.idempotency_key)
        if existing is not None:
            return _replay(existing, new), False
    job = Job(
        id=new.id,
        status=JobStatus.QUEUED,
        filename=new.filename,
        content_type=new.content_type,
        size_bytes=new.blob.size,
        sha256=new.blob.sha256,
        container=new.info.container,
        codec=new.info.codec,
        duration_s=new.info.duration_s,
        sample_rate=new.info.sample_rate,
        channels=new.info.channels,
        client_metadata=new.metadata,
        webhook_url=new.webhook_url,
        idempotency_key=new.idempotency_key,
        audio_key=new.blob.key,
        enqueued_at=utcnow(),
    )
    try:
        with session.begin_nested():
            repository.add(session, job)
    except IntegrityError:
        # Two identical retries raced; the other one won and its job is the answer.
        existing = repository.get_by_idempotency_key(session, new.idempotency_key or "")
        if existing is None:
            raise
        return _replay(existing, new), False
    enqueue_analysis(session, job.id)
    return job, True


def _replay(existing: Job, new: NewJob) -> Job:
    if existing.sha256 != new.blob.sha256:
        raise Conflict(
            "this Idempotency-Key was already used for different audio", code="idempotency_key_reused"
        )
    return existing


def get_job(session: Session, job_id: uuid.UUID) -> Job:
    job = repository.get(session, job_id, with_result=True)
    if job is None:
        raise NotFound(f"no job {job_id}", code="job_not_found")
    return job


def cancel_job(session: Session, storage: Storage, job_id: uuid.UUID) -> Job:
    """Cancel a job that has not finished and drop its audio. A finished job is returned unchanged."""
    job = get_job(session, job_id)
    if repository.finish_unless_final(
        session, job_id, status=JobStatus.CANCELLED, audio_key=None, error_code=None, error_message=None
    ):
        delete_audio_after_commit(session, storage, job.audio_key)
    return get_job(session, job_id)


def delete_audio_after_commit(session: Session, storage: Storage, key: str | None) -> None:
    if key is not None:
        after_commit(session, lambda: storage.delete(key))


class ClaimOutcome(Enum):
    CLAIMED = "claimed"
    BUSY = "busy"  # another attempt holds a live lease
    DONE = "done"  # final, or gone


def claim_job(session: Session, job_id: uuid.UUID, *, owner: str, lease_seconds: int) -> ClaimOutcome:
    if repository.claim(session, job_id, owner=owner, lease_seconds=lease_seconds):
        return ClaimOutcome.CLAIMED
    job = repository.get(session, job_id)
    if job is None or JobStatus(job.status).is_final:
        return ClaimOutcome.DONE
    return ClaimOutcome.BUSY


def record_audio_facts(session: Session, job_id: uuid.UUID, owner: str, *, duration_s: float) -> bool:
    return repository.update_owned(session, job_id, owner, duration_s=duration_s)


def report_progress(
    session: Session, job_id: uuid.UUID, owner: str, *, progress: float, lease_seconds: int
) -> bool:
    """Advance progress and extend the lease; False means stop (cancelled, or the lease was lost)."""
    return repository.update_owned(
        session,
        job_id,
        owner,
        progress=progress,
        lease_expires_at=utcnow() + timedelta(seconds=lease_seconds),
    )


def complete_job(session: Session, job_id: uuid.UUID, owner: str, result: JobResult) -> bool:
    if not repository.update_owned(
        session,
        job_id,
        owner,
        status=JobStatus.SUCCEEDED,
        progress=1.0,
        finished_at=utcnow(),
        lease_owner=None,
        lease_expires_at=None,
    ):
        return False
    repository.add_result(
        session,
        JobResultRow(
            job_id=job_id,
            model_id=result.model.id,
            model_revision=result.model.revision,
            dominant_label=result.dominant.label,
            dominant_score=result.dominant.score,
            scores=[s.model_dump() for s in result.scores],
            segments=[s.model_dump(exclude_none=True) for s in result.segments],
        ),
    )
    return True


def fail_job(session: Session, job_id: uuid.UUID, *, code: str, message: str) -> bool:
    return repository.finish_unless_final(
        session, job_id, status=JobStatus.FAILED, error_code=code, error_message=message
    )


def release_job(session: Session, job_id: uuid.UUID, owner: str) -> bool:
    """Hand a job back to the queue (a transient error, or the worker is shutting down)."""
    return repository.update_owned(
        session, job_id, owner, status=JobStatus.QUEUED, lease_owner=None, lease_expires_at=None, progress=0.0
    )


def forget_audio(session: Session, storage: Storage, job_id: uuid.UUID) -> None:
    """Audio is kept only while it is needed: once a job has ended, it goes."""
    job = repository.get(session, job_id)
    if job is not None and job.audio_key is not None:
        key = job.audio_key
        job.audio_key = None
        session.flush()
        delete_audio_after_commit(session, storage, key)
