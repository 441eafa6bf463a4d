"""Every SQL statement about jobs and their results."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session, selectinload

from shared.auth.caller import Caller, owned_by
from shared.config import get_settings
from shared.models import FINAL_STATUSES, Batch, Job, JobResultRow, JobStatus, ServedModel
from shared.models.base import utcnow
from shared.paging import newest_first


@dataclass(frozen=True)
class JobFilter:
    status: JobStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def get(session: Session, job_id: uuid.UUID, *, with_result: bool = False) -> Job | None:
    options = [selectinload(Job.result)] if with_result else []
    return session.get(Job, job_id, options=options, populate_existing=True)


def statuses_of(session: Session, job_ids: list[uuid.UUID]) -> dict[uuid.UUID, JobStatus]:
    """Only the jobs' statuses (a job that does not exist is left out): what waiting requests ask, often."""
    rows = session.execute(select(Job.id, Job.status).where(Job.id.in_(job_ids)))
    return {job_id: JobStatus(status) for job_id, status in rows}


def get_visible(session: Session, caller: Caller, job_id: uuid.UUID) -> Job | None:
    """The job with its result, if it belongs to the caller: another key's job is simply not found."""
    query = (
        select(Job)
        .where(Job.id == job_id, owned_by(Job.owner_key_id, caller))
        .options(selectinload(Job.result))
        .execution_options(populate_existing=True)
    )
    return session.scalar(query)


def get_by_idempotency_key(session: Session, caller: Caller, key: str) -> Job | None:
    query = select(Job).where(Job.idempotency_key == key, owned_by(Job.owner_key_id, caller))
    return session.scalar(query.options(selectinload(Job.result)))


def delete(session: Session, job_id: uuid.UUID) -> None:
    """The job and, by foreign-key cascade, its result, webhook events and delivery attempts."""
    session.execute(sql_delete(Job).where(Job.id == job_id).execution_options(synchronize_session=False))


def add(session: Session, job: Job) -> Job:
    session.add(job)
    session.flush()
    return job


def list_page(
    session: Session,
    caller: Caller,
    filters: JobFilter,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Job]:
    """The caller's jobs, newest first; ``after`` is the (created_at, id) of the previous page's last row."""
    query = select(Job).where(owned_by(Job.owner_key_id, caller)).options(selectinload(Job.result))
    if filters.status is not None:
        query = query.where(Job.status == filters.status)
    if filters.created_after is not None:
        query = query.where(Job.created_at >= filters.created_after)
    if filters.created_before is not None:
        query = query.where(Job.created_at < filters.created_before)
    query = newest_first(query, Job, after)
    return list(session.scalars(query.limit(limit)))


def count_created_since(session: Session, caller: Caller, since: datetime) -> int:
    query = select(func.count()).where(owned_by(Job.owner_key_id, caller), Job.created_at >= since)
    return session.scalar(query) or 0


def nth_created_since(session: Session, caller: Caller, since: datetime, n: int) -> datetime | None:
    """When the caller's ``n``-th oldest job since ``since`` was created (n counts from 1)."""
    query = (
        select(Job.created_at)
        .where(owned_by(Job.owner_key_id, caller), Job.created_at >= since)
        .order_by(Job.created_at)
        .offset(n - 1)
        .limit(1)
    )
    return session.scalar(query)


def count_active(session: Session, caller: Caller) -> int:
    query = select(func.count()).where(
        owned_by(Job.owner_key_id, caller), Job.status.in_((JobStatus.QUEUED, JobStatus.PROCESSING))
    )
    return session.scalar(query) or 0


def _claimed_by(owner: str, lease_seconds: int) -> dict[str, Any]:
    """What a claim writes, whether it takes one job or several."""
    now = utcnow()
    return {
        "status": JobStatus.PROCESSING,
        "lease_owner": owner,
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
        "attempts": Job.attempts + 1,
        "started_at": now,
        "progress": 0.0,
        "updated_at": now,
    }


def claim(session: Session, job_id: uuid.UUID, *, owner: str, lease_seconds: int) -> bool:
    """Take the job if it is queued or its lease has expired. Atomic: one UPDATE decides."""
    now = utcnow()
    claimable = or_(
        Job.status == JobStatus.QUEUED,
        (Job.status == JobStatus.PROCESSING) & (Job.lease_expires_at < now),
    )
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, claimable)
        .values(_claimed_by(owner, lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def asking_for(model: str) -> ColumnElement[bool]:
    """The jobs of this model; those older than named models (no name) are the default model's."""
    if model == get_settings().default_model:
        return or_(Job.model == model, Job.model.is_(None))
    return Job.model == model


def _claimable(model: str, model_version_id: uuid.UUID | None, *, singles_only: bool) -> ColumnElement[bool]:
    """Queued jobs of ``model``'s own checkpoint or, with ``model_version_id``, of that registered version
    (jobs of different checkpoints never share a forward pass), whose audio is already stored: a download
    would hold up every job it shares passes with, so jobs given by URL run from their own message.
    ``singles_only`` leaves out jobs of batches."""
    return and_(
        Job.status == JobStatus.QUEUED,
        asking_for(model),
        Job.model_version_id.is_(None)
        if model_version_id is None
        else Job.model_version_id == model_version_id,
        Job.audio_url.is_(None),
        Job.audio_key.is_not(None),
        *([Job.batch_id.is_(None)] if singles_only else []),
    )


def count_claimable(
    session: Session, *, model: str, model_version_id: uuid.UUID | None = None, singles_only: bool = False
) -> int:
    claimable = _claimable(model, model_version_id, singles_only=singles_only)
    return session.scalar(select(func.count()).select_from(Job).where(claimable)) or 0


def claim_queued(
    session: Session,
    *,
    model: str,
    model_version_id: uuid.UUID | None = None,
    owner: str,
    lease_seconds: int,
    limit: int,
    singles_only: bool = False,
) -> list[Job]:
    """Take up to ``limit`` queued jobs of ``model`` (or of its registered version ``model_version_id``)
    in one statement: single jobs before those of batches, oldest first, and within a batch the longest
    recordings first (a batch ends with its last job, and a long recording started last would run alone
    on one core while the others idle). ``singles_only`` leaves the jobs of batches queued. On
    PostgreSQL, rows another worker is claiming at the same moment are skipped, not waited for; SQLite
    has one writer at a time anyway. Returns the claimed rows' id, audio_key, duration_s,
    declared_duration_s, with_features and transcribe."""
    batch_created = select(Batch.created_at).where(Batch.id == Job.batch_id).scalar_subquery()
    candidates = (
        select(Job.id)
        .where(_claimable(model, model_version_id, singles_only=singles_only))
        .order_by(
            Job.batch_id.is_not(None),
            func.coalesce(batch_created, Job.enqueued_at, Job.created_at),
            func.coalesce(Job.duration_s, Job.declared_duration_s, 0.0).desc(),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
        # A CTE runs once; PostgreSQL may run an IN (subquery) more than once, each time claiming more.
        .cte("claimable")
    )
    claimed = session.execute(
        update(Job)
        .where(Job.id == candidates.c.id, Job.status == JobStatus.QUEUED)
        .values(_claimed_by(owner, lease_seconds))
        .returning(
            Job.id,
            Job.audio_key,
            Job.duration_s,
            Job.declared_duration_s,
            Job.with_features,
            Job.transcribe,
        )
        .execution_options(synchronize_session=False)
    )
    return list(claimed.all())


def finish_unless_final(session: Session, job_id: uuid.UUID, **values: Any) -> bool:
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.not_in(FINAL_STATUSES))
        .values(updated_at=utcnow(), finished_at=utcnow(), lease_owner=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def add_result(session: Session, row: JobResultRow) -> None:
    session.add(row)
    session.flush()


def record_served_model(session: Session, model: ServedModel) -> None:
    session.merge(model)
    session.flush()


def served_models(session: Session) -> list[ServedModel]:
    """What workers reported, the most recently started first."""
    return list(session.scalars(select(ServedModel).order_by(ServedModel.last_seen_at.desc())))


def model_of(session: Session, job_id: uuid.UUID) -> tuple[str | None, uuid.UUID | None]:
    """The name of the model the job asked for (None if it is gone or older than named models) and the
    registered version it runs on, if any."""
    row = session.execute(select(Job.model, Job.model_version_id).where(Job.id == job_id)).first()
    return (row.model, row.model_version_id) if row is not None else (None, None)


def oldest_queued_at(session: Session) -> datetime | None:
    """When the longest-waiting queued job was (last) sent to the queue."""
    query = select(func.min(func.coalesce(Job.enqueued_at, Job.created_at))).where(
        Job.status == JobStatus.QUEUED
    )
    return session.scalar(query)
