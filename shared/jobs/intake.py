"""Jobs as the API accepts and reads them: intake, idempotent replays, the caller's view."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.audio import AudioInfo
from shared.auth.caller import Caller
from shared.config import get_settings
from shared.db import after_commit
from shared.errors import Conflict, EmoQError, NotFound
from shared.jobs import metrics, repository
from shared.jobs.admission import admit
from shared.jobs.queue import enqueue_analysis
from shared.models import Job, JobStatus
from shared.models.base import utcnow
from shared.storage import StoredBlob, storage_key

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
    with_features: bool = False
    transcribe: bool = False
    idempotency_key: str | None = None
    batch_id: uuid.UUID | None = None
    position: int | None = None
    model: str | None = None  # a name of EMOQ_MODELS, checked by the API; None: the default model
    # A registered version of the owner's, chosen by ``shared.registry.service.choose_model``.
    model_version_id: uuid.UUID | None = None


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
        enqueue_analysis(session, job.id, model=job.model, bulk=new.batch_id is not None)
    _note_accepted(session, job)
    return job, True


def add_batch_job(session: Session, caller: Caller, new: NewJob) -> Job:
    """One job of a batch: admitted together with its batch, and without an idempotency key."""
    job = repository.add(session, _job_row(new, caller))
    if new.error is None:
        enqueue_analysis(session, job.id, model=job.model, bulk=True)
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
        declared_duration_s=info.declared_duration_s if info else None,
        sample_rate=info.sample_rate if info else None,
        channels=info.channels if info else None,
        client_metadata=new.metadata,
        webhook_url=new.webhook_url,
        with_features=new.with_features,
        transcribe=new.transcribe,
        idempotency_key=new.idempotency_key,
        model=new.model or get_settings().default_model,
        model_version_id=new.model_version_id,
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
