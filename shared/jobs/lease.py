"""The worker's side of a job: a lease claimed, renewed with progress, handed back, or ended with a result.

Every change is conditional on the lease, so a worker that lost its job (cancelled, or taken over after its
lease expired) changes nothing.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from shared import leases
from shared.audio import AudioInfo
from shared.jobs import repository
from shared.jobs.queue import enqueue_analysis
from shared.models import Job, JobResultRow, JobStatus
from shared.models.base import utcnow
from shared.schemas.results import JobResult
from shared.storage import StoredBlob


class ClaimOutcome(Enum):
    CLAIMED = "claimed"
    BUSY = "busy"  # another attempt holds a live lease
    DONE = "done"  # final, or gone


def nothing_to_do(session: Session, job_id: uuid.UUID) -> ClaimOutcome | None:
    """DONE or BUSY when a delivery of this job can stop at once, read without taking a write lock:
    under micro-batching most messages find their job already finished or held by another worker."""
    job = repository.get(session, job_id)
    if job is None or JobStatus(job.status).is_final:
        return ClaimOutcome.DONE
    if (
        job.status == JobStatus.PROCESSING
        and job.lease_expires_at is not None
        and job.lease_expires_at > utcnow()
    ):
        return ClaimOutcome.BUSY
    return None


def claim_job(session: Session, job_id: uuid.UUID, *, owner: str, lease_seconds: int) -> ClaimOutcome:
    if repository.claim(session, job_id, owner=owner, lease_seconds=lease_seconds):
        return ClaimOutcome.CLAIMED
    job = repository.get(session, job_id)
    if job is None or JobStatus(job.status).is_final:
        return ClaimOutcome.DONE
    return ClaimOutcome.BUSY


@dataclass(frozen=True)
class ClaimedJob:
    """What a worker needs of a job it holds to analyse it."""

    id: uuid.UUID
    audio_key: str | None
    duration_s: float | None
    declared_duration_s: float | None
    with_features: bool = False
    transcribe: bool = False

    @classmethod
    def of(cls, job: Job | Row[Any]) -> ClaimedJob:
        """From a job row, or from the columns ``repository.claim_queued`` returns under the same names."""
        return cls(
            id=job.id,
            audio_key=job.audio_key,
            duration_s=job.duration_s,
            declared_duration_s=job.declared_duration_s,
            with_features=job.with_features,
            transcribe=job.transcribe,
        )


def claim_queued(
    session: Session,
    *,
    model: str,
    model_version_id: uuid.UUID | None = None,
    owner: str,
    lease_seconds: int,
    limit: int,
    held: int = 0,
    processes: int = 1,
    singles_only: bool = False,
) -> list[ClaimedJob]:
    """Queued jobs of ``model`` (and of its registered version ``model_version_id``, or of none) taken in
    one round trip to fill forward passes alongside the ``held`` ones this owner runs (of the same
    checkpoint). Their own broker messages, when they arrive, find them held (or finished) and are dropped.

    With ``processes`` > 1, no more than an even share of the work among that many processes: a batch
    submitted at once would otherwise land whole on the process that saw its first message, while the
    others, each on its own core, idle. ``singles_only`` leaves the jobs of batches to other processes."""
    if processes > 1:
        waiting = repository.count_claimable(
            session, model=model, model_version_id=model_version_id, singles_only=singles_only
        )
        limit = min(limit, math.ceil((waiting + held) / processes) - held)
        if limit <= 0:
            return []
    rows = repository.claim_queued(
        session,
        model=model,
        model_version_id=model_version_id,
        owner=owner,
        lease_seconds=lease_seconds,
        limit=limit,
        singles_only=singles_only,
    )
    return [ClaimedJob.of(row) for row in rows]


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
    return leases.update_owned(
        session,
        Job,
        job_id,
        owner,
        size_bytes=blob.size,
        sha256=blob.sha256,
        content_type=content_type,
        container=info.container,
        codec=info.codec,
        duration_s=info.duration_s,
        declared_duration_s=info.declared_duration_s,
        sample_rate=info.sample_rate,
        channels=info.channels,
    )


def release_job(session: Session, job_id: uuid.UUID, owner: str, *, resend: bool) -> bool:
    """Hand a job this owner holds back to the queue, as if just sent. ``resend`` sends it again now
    (a worker shutting down); without it the caller's own task retry brings it back (a transient error).

    The attempt is given back too: ``max_attempts`` stops jobs whose workers die, and a worker that hands
    its job back did not die. Otherwise three rolling restarts during one long job would fail it.
    """
    if not leases.update_owned(
        session,
        Job,
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
        if job is not None:
            enqueue_analysis(session, job_id, model=job.model, bulk=job.batch_id is not None)
    return True


def record_result(
    session: Session,
    job_id: uuid.UUID,
    owner: str,
    result: JobResult,
    *,
    duration_s: float,
    truncated: bool,
) -> bool:
    """Store the result and mark the job succeeded while this owner holds it. ``duration_s`` is the
    length the worker measured, which headers may not tell, and ``truncated`` whether it fell well short
    of what the header declared. What follows a job's end is the caller's."""
    if not leases.update_owned(
        session,
        Job,
        job_id,
        owner,
        duration_s=duration_s,
        truncated=truncated,
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
            model_name=result.model.name,
            model_id=result.model.id,
            model_revision=result.model.revision,
            model_precision=result.model.precision,
            dominant_label=result.dominant.label,
            dominant_score=result.dominant.score,
            scores=[s.model_dump() for s in result.scores],
            segments=[s.model_dump(exclude_none=True) for s in result.segments],
            confidence=result.confidence.model_dump() if result.confidence else None,
            low_confidence=result.low_confidence,
            episodes=[e.model_dump() for e in result.episodes] if result.episodes is not None else None,
            affect=result.affect.model_dump() if result.affect else None,
            features=result.features.model_dump() if result.features else None,
            utterances=(
                [u.model_dump(exclude_none=True) for u in result.utterances]
                if result.utterances is not None
                else None
            ),
        ),
    )
    return True
