"""Every SQL statement of the reconciler and of retention."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.orm import Session

from shared import leases
from shared.jobs.repository import asking_for
from shared.models import FINAL_STATUSES, Batch, Job, JobStatus
from shared.models.base import utcnow


@dataclass(frozen=True)
class AbandonedJob:
    """A job a worker claimed and stopped renewing: the worker died, or lost the database for too long."""

    id: uuid.UUID
    attempts: int
    bulk: bool
    model: str | None


def _in_queue(*, bulk: bool) -> ColumnElement[bool]:
    return Job.batch_id.is_not(None) if bulk else Job.batch_id.is_(None)


def abandoned_jobs(session: Session, *, now: datetime, limit: int) -> list[AbandonedJob]:
    query = (
        select(Job.id, Job.attempts, Job.batch_id, Job.model)
        .where(leases.abandoned(Job, now))
        .order_by(Job.lease_expires_at)
        .limit(limit)
    )
    return [
        AbandonedJob(id, attempts, batch_id is not None, model)
        for id, attempts, batch_id, model in session.execute(query)
    ]


def _stale(before: datetime, *, model: str, bulk: bool) -> ColumnElement[bool]:
    # A job handed back before enqueued_at existed has none; its creation time stands in.
    enqueued = func.coalesce(Job.enqueued_at, Job.created_at)
    return (Job.status == JobStatus.QUEUED) & (enqueued < before) & asking_for(model) & _in_queue(bulk=bulk)


def count_queued(session: Session, *, model: str, bulk: bool) -> int:
    """Queued jobs that should each have a message in the queue of ``model`` and ``bulk``."""
    query = select(func.count()).where(
        Job.status == JobStatus.QUEUED, asking_for(model), _in_queue(bulk=bulk)
    )
    return session.scalar(query) or 0


def oldest_stale_queued(
    session: Session, *, before: datetime, model: str, bulk: bool, limit: int
) -> list[uuid.UUID]:
    query = (
        select(Job.id)
        .where(_stale(before, model=model, bulk=bulk))
        .order_by(func.coalesce(Job.enqueued_at, Job.created_at), Job.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def mark_enqueued(session: Session, job_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Stamp the jobs as sent now; returns those still queued, the ones worth sending."""
    if not job_ids:
        return []
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.status == JobStatus.QUEUED)
        .values(enqueued_at=now, updated_at=now)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


# Retention.


def audio_past_retention(
    session: Session, *, ended_before: datetime, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """Ended jobs whose audio is still kept: (job id, storage key)."""
    query = (
        select(Job.id, Job.audio_key)
        .where(Job.status.in_(FINAL_STATUSES), Job.finished_at < ended_before, Job.audio_key.is_not(None))
        .order_by(Job.finished_at)
        .limit(limit)
    )
    return [(job_id, key) for job_id, key in session.execute(query)]


def forget_audio(session: Session, job_ids: list[uuid.UUID]) -> None:
    session.execute(
        update(Job)
        .where(Job.id.in_(job_ids))
        .values(audio_key=None)
        .execution_options(synchronize_session=False)
    )


def _expired_standalone_job(ended_before: datetime) -> ColumnElement[bool]:
    return Job.batch_id.is_(None) & Job.status.in_(FINAL_STATUSES) & (Job.finished_at < ended_before)


def _expired_batch(ended_before: datetime) -> ColumnElement[bool]:
    # A batch goes whole, once its last job has ended long enough ago, so a client never sees half of one;
    # one with no jobs left at all (nothing in it to wait for) goes once it is that old.
    no_jobs = ~exists().where(Job.batch_id == Batch.id)
    return (Batch.finished_at < ended_before) | (no_jobs & (Batch.created_at < ended_before))


def expired_standalone_jobs(
    session: Session, *, ended_before: datetime, limit: int
) -> list[tuple[uuid.UUID, str | None]]:
    """Finished jobs outside batches that ended before the cutoff: (job id, audio key if still kept)."""
    query = select(Job.id, Job.audio_key).where(_expired_standalone_job(ended_before)).limit(limit)
    return [(job_id, key) for job_id, key in session.execute(query)]


def expired_batches(session: Session, *, ended_before: datetime, limit: int) -> list[uuid.UUID]:
    return list(session.scalars(select(Batch.id).where(_expired_batch(ended_before)).limit(limit)))


def audio_keys_of_batches(session: Session, batch_ids: list[uuid.UUID]) -> list[str]:
    query = select(Job.audio_key).where(Job.batch_id.in_(batch_ids), Job.audio_key.is_not(None))
    return [key for key in session.scalars(query) if key is not None]


def delete_jobs(session: Session, job_ids: list[uuid.UUID]) -> int:
    """Results, webhook events and their attempts go with them (ON DELETE CASCADE)."""
    result = session.execute(
        delete(Job).where(Job.id.in_(job_ids)).execution_options(synchronize_session=False)
    )
    return result.rowcount


def delete_batches(session: Session, batch_ids: list[uuid.UUID]) -> int:
    """Their jobs, and everything that hangs off those, go with them (ON DELETE CASCADE)."""
    result = session.execute(
        delete(Batch).where(Batch.id.in_(batch_ids)).execution_options(synchronize_session=False)
    )
    return result.rowcount
