"""Every SQL statement about jobs and their results."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from shared.models import FINAL_STATUSES, Job, JobResultRow, JobStatus, ServedModel
from shared.models.base import utcnow


@dataclass(frozen=True)
class JobFilter:
    status: JobStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def get(session: Session, job_id: uuid.UUID, *, with_result: bool = False) -> Job | None:
    options = [selectinload(Job.result)] if with_result else []
    return session.get(Job, job_id, options=options, populate_existing=True)


def get_by_idempotency_key(session: Session, key: str) -> Job | None:
    return session.scalar(select(Job).where(Job.idempotency_key == key).options(selectinload(Job.result)))


def add(session: Session, job: Job) -> Job:
    session.add(job)
    session.flush()
    return job


def list_page(
    session: Session, filters: JobFilter, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Job]:
    """Newest first; ``after`` is the (created_at, id) of the last row of the previous page."""
    query = select(Job).options(selectinload(Job.result)).order_by(Job.created_at.desc(), Job.id.desc())
    if filters.status is not None:
        query = query.where(Job.status == filters.status)
    if filters.created_after is not None:
        query = query.where(Job.created_at >= filters.created_after)
    if filters.created_before is not None:
        query = query.where(Job.created_at < filters.created_before)
    if after is not None:
        created_at, job_id = after
        query = query.where(
            or_(Job.created_at < created_at, (Job.created_at == created_at) & (Job.id < job_id))
        )
    return list(session.scalars(query.limit(limit)))


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
        .values(
            status=JobStatus.PROCESSING,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
            started_at=now,
            progress=0.0,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def update_owned(session: Session, job_id: uuid.UUID, owner: str, **values: Any) -> bool:
    """Change a job only while this owner still holds it; False once it was cancelled or taken over."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == owner, Job.status == JobStatus.PROCESSING)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


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
    return list(session.scalars(select(ServedModel).order_by(ServedModel.last_seen_at.desc())))
