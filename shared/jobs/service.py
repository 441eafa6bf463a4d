"""Job life cycle in domain terms. Functions here flush; whoever opened the session commits."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.audio import AudioInfo
from shared.auth.caller import Caller
from shared.batches.completion import note_job_ended
from shared.config import get_settings
from shared.db import after_commit
from shared.errors import Conflict, EmoQError, NotFound
from shared.jobs import metrics, repository
from shared.jobs.admission import admit
from shared.jobs.queue import enqueue_analysis
from shared.models import EventType, Job, JobResultRow, JobStatus
from shared.models.base import utcnow
from shared.schemas.jobs import JobRead
from shared.schemas.results import JobResult
from shared.storage import Storage, StoredBlob, storage_key
from shared.webhooks.events import record_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewJob:
    """A job as the API accepted it: stored audio with its facts, an audio URL, or a refusal.

    A refused file inside a batch still becomes a job, born ``failed``, so every file of a batch has an
    answer; a single upload is refused with a problem response instead and never reaches here.
    """

    id: uuid.UUID
    filename: str | None = None
    content_type: str | None = None
    blob: StoredBlob | None = None
    info: AudioInfo | None = None
    audio_url: str | None = None
    error: EmoQError | None = None
    metadata: dict[str, Any] | None = None
    webhook_url: str | None = None
    idempotency_key: str | None = None
    batch_id: uuid.UUID | None = None
    position: int | None = None


def create_job(session: Session, caller: Caller, new: NewJob) -> tuple[Job, bool]:
    """Record an accepted job for the caller and queue it. Returns the job and whether it is new.

    A retried submission with the same idempotency key (the caller's own: keys never see each other's)
    returns the first job; the same key with other audio is a client error rather than a silent mix-up.
    A replay is not a new submission, so only a new job counts against the caller's limits.
    """
    if new.idempotency_key is not None:
        existing = repository.get_by_idempotency_key(session, caller, new.idempotency_key)
        if existing is not None:
            return _replay(existing, new), False
    admit(session, caller, jobs=1, active=0 if new.error else 1)
    job = _job_row(new, caller)
    try:
        with session.begin_nested():
            repository.add(session, job)
    except IntegrityError:
        # Two identical retries raced; the other one won and its job is the answer.
        existing = repository.get_by_idempotency_key(session, caller, new.idempotency_key or "")
        if existing is None:
            raise
        return _replay(existing, new), False
    if new.error is None:
        enqueue_analysis(session, job.id, bulk=new.batch_id is not None)
    _note_accepted(session, job)
    return job, True


def add_batch_job(session: Session, caller: Caller, new: NewJob) -> Job:
    """One job of a batch: admitted together with its batch, and without an idempotency key."""
    job = repository.add(session, _job_row(new, caller))
    if new.error is None:
        enqueue_analysis(session, job.id, bulk=True)
    _note_accepted(session, job)
    return job


def _note_accepted(session: Session, job: Job) -> None:
    """Counted and logged once committed: a job is accepted when its row is, not before."""
    count = metrics.count_accepted(job)
    facts = {"job_id": str(job.id), "batch_id": str(job.batch_id) if job.batch_id else None}

    def note() -> None:
        count()
        log.info("job accepted", extra=facts)

    after_commit(session, note)


def _job_row(new: NewJob, caller: Caller) -> Job:
    info, blob, now = new.info, new.blob, utcnow()
    failed = new.error is not None
    return Job(
        id=new.id,
        owner_key_id=caller.key_id,
        status=JobStatus.FAILED if failed else JobStatus.QUEUED,
        batch_id=new.batch_id,
        position=new.position,
        audio_url=new.audio_url,
        filename=new.filename,
        content_type=new.content_type,
        size_bytes=blob.size if blob else None,
        sha256=blob.sha256 if blob else None,
        container=info.container if info else None,
        codec=info.codec if info else None,
        duration_s=info.duration_s if info else None,
        sample_rate=info.sample_rate if info else None,
        channels=info.channels if info else None,
        client_metadata=new.metadata,
        webhook_url=new.webhook_url,
        idempotency_key=new.idempotency_key,
        audio_key=None if failed else storage_key(new.id),
        error_code=new.error.code if failed else None,
        error_message=new.error.message if failed else None,
        finished_at=now if failed else None,
        enqueued_at=None if failed else now,
    )


def _replay(existing: Job, new: NewJob) -> Job:
    same = (existing.audio_url, existing.sha256) == (new.audio_url, new.blob.sha256 if new.blob else None)
    if not same:
        raise Conflict(
            "this Idempotency-Key was already used for different audio", code="idempotency_key_reused"
        )
    return existing


def get_job(session: Session, caller: Caller, job_id: uuid.UUID) -> Job:
    """The caller's job; another key's job is a 404 like one that does not exist, revealing nothing."""
    job = repository.get_visible(session, caller, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}", code="job_not_found")
    return job


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


def record_download(
    session: Session,
    job_id: uuid.UUID,
    owner: str,
    *,
    blob: StoredBlob,
    info: AudioInfo,
    content_type: str | None,
) -> bool:
    """What the worker learnt fetching audio given by URL: the same facts an upload records at once."""
    return repository.update_owned(
        session,
        job_id,
        owner,
        size_bytes=blob.size,
        sha256=blob.sha256,
        content_type=content_type,
        container=info.container,
        codec=info.codec,
        duration_s=info.duration_s,
        sample_rate=info.sample_rate,
        channels=info.channels,
    )


def complete_job(
    session: Session, storage: Storage, job_id: uuid.UUID, owner: str, result: JobResult, *, duration_s: float
) -> bool:
    """Record the result; ``duration_s`` is the length the worker measured, which headers may not tell."""
    if not repository.update_owned(
        session,
        job_id,
        owner,
        duration_s=duration_s,
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
    job_ended(session, storage, job_id)
    return True


def fail_job(session: Session, storage: Storage, job_id: uuid.UUID, *, code: str, message: str) -> bool:
    if not repository.finish_unless_final(
        session, job_id, status=JobStatus.FAILED, error_code=code, error_message=message
    ):
        return False
    job_ended(session, storage, job_id)
    return True


def release_job(session: Session, job_id: uuid.UUID, owner: str, *, resend: bool) -> bool:
    """Hand a job this owner holds back to the queue, as if just sent. ``resend`` sends it again now
    (a worker shutting down); without it the caller's own task retry brings it back (a transient error).

    The attempt is given back too: ``max_attempts`` stops jobs whose workers die, and a worker that hands
    its job back did not die. Otherwise three rolling restarts during one long job would fail it.
    """
    if not repository.update_owned(
        session,
        job_id,
        owner,
        status=JobStatus.QUEUED,
        attempts=Job.attempts - 1,
        lease_owner=None,
        lease_expires_at=None,
        progress=0.0,
        enqueued_at=utcnow(),
    ):
        return False
    if resend:
        job = repository.get(session, job_id)
        enqueue_analysis(session, job_id, bulk=job is not None and job.batch_id is not None)
    return True


EVENT_FOR_STATUS = {
    JobStatus.SUCCEEDED: EventType.JOB_SUCCEEDED,
    JobStatus.FAILED: EventType.JOB_FAILED,
    JobStatus.CANCELLED: EventType.JOB_CANCELLED,
}


def job_ended(session: Session, storage: Storage, job_id: uuid.UUID) -> None:
    """What follows the end of a job, in the transaction that ended it: its audio goes (unless a retention
    period keeps it; the purge task removes it then), its webhook event is recorded, and its batch may now
    be complete."""
    job = repository.get(session, job_id, with_result=True)
    if job is None:
        return
    after_commit(session, metrics.count_finished(job))
    if job.audio_key is not None and get_settings().audio_retention_seconds == 0:
        key, job.audio_key = job.audio_key, None
        session.flush()
        delete_audio_after_commit(session, storage, key)
    if job.webhook_url is not None:
        record_event(
            session,
            type=EVENT_FOR_STATUS[JobStatus(job.status)],
            url=job.webhook_url,
            data=JobRead.from_job(job).model_dump(mode="json"),
            job_id=job.id,
        )
    if job.batch_id is not None:
        note_job_ended(session, job.batch_id)
