"""Every statement on the status and lease that jobs and trainings share: a worker holds a row (its status the
table's ``HELD_STATUS``) while it keeps renewing ``lease_expires_at``; what it writes counts only while
it still holds the row; the reconciler requeues, or fails once out of attempts, a row whose worker
stopped renewing. One UPDATE decides each transition, so a row is never held twice nor ended twice."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.orm import Session

from shared.models import Job, Training
from shared.models.base import utcnow

Leased = type[Job] | type[Training]
# Both tables spell these two statuses alike (JobStatus, TrainingStatus).
QUEUED, FAILED = "queued", "failed"


def count_by_status(session: Session, table: Leased) -> dict[str, int]:
    rows = session.execute(select(table.status, func.count()).group_by(table.status))
    return {str(status): count for status, count in rows}


def abandoned(table: Leased, now: datetime) -> ColumnElement[bool]:
    """Held by a worker that stopped renewing the lease."""
    return (table.status == table.HELD_STATUS) & (table.lease_expires_at < now)


def renew_owned(
    session: Session, table: Leased, owner: str, progress: dict[uuid.UUID, float], *, lease_seconds: int
) -> set[uuid.UUID]:
    """Extend the lease of every listed row this owner still holds, writing each one's progress, in one
    statement. Returns the ids still held; the rest were cancelled or taken over."""
    now = utcnow()
    held = session.execute(
        update(table)
        .where(table.id.in_(progress), table.lease_owner == owner, table.status == table.HELD_STATUS)
        .values(
            progress=case(progress, value=table.id),
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            updated_at=now,
        )
        .returning(table.id)
        .execution_options(synchronize_session=False)
    )
    return set(held.scalars())


def update_owned(session: Session, table: Leased, row_id: uuid.UUID, owner: str, **values: Any) -> bool:
    """Change a row only while this owner still holds it; False once it was cancelled or taken over."""
    result = session.execute(
        update(table)
        .where(table.id == row_id, table.lease_owner == owner, table.status == table.HELD_STATUS)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def fail_if_abandoned(
    session: Session, table: Leased, row_id: uuid.UUID, *, max_attempts: int, code: str, message: str
) -> bool:
    """End the row as failed only if it is still abandoned and out of attempts: a worker that claimed it
    meanwhile keeps it."""
    now = utcnow()
    result = session.execute(
        update(table)
        .where(table.id == row_id, abandoned(table, now), table.attempts >= max_attempts)
        .values(
            status=FAILED,
            error_code=code,
            error_message=message,
            finished_at=now,
            updated_at=now,
            lease_owner=None,
            lease_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def requeue_if_abandoned(session: Session, table: Leased, row_id: uuid.UUID, *, max_attempts: int) -> bool:
    """Put an abandoned row with attempts left back in the queue; its old lease owner can no longer write."""
    now = utcnow()
    result = session.execute(
        update(table)
        .where(table.id == row_id, abandoned(table, now), table.attempts < max_attempts)
        .values(
            status=QUEUED,
            lease_owner=None,
            lease_expires_at=None,
            progress=0.0,
            enqueued_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
