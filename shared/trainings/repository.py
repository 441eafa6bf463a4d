"""Every SQL statement about trainings and the model versions they register.

Trainings are held under a lease like jobs: every change a worker makes is conditional on holding it, so a
worker that lost its training (cancelled, or taken over after its lease expired) changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from shared import leases
from shared.auth.caller import Caller, owned_by
from shared.models import TRAINING_FINAL_STATUSES, ModelVersion, Training, TrainingStatus
from shared.models.base import utcnow
from shared.paging import newest_first


def add(session: Session, training: Training) -> Training:
    session.add(training)
    session.flush()
    return training


def get(session: Session, training_id: uuid.UUID) -> Training | None:
    return session.get(Training, training_id, populate_existing=True)


def get_visible(session: Session, caller: Caller, training_id: uuid.UUID) -> Training | None:
    """The training if it belongs to the caller: another key's training is simply not found."""
    query = select(Training).where(Training.id == training_id, owned_by(Training.owner_key_id, caller))
    return session.scalar(query.execution_options(populate_existing=True))


def list_page(
    session: Session, caller: Caller, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Training]:
    """The caller's trainings, newest first; ``after`` is the (created_at, id) of the previous page's last."""
    query = select(Training).where(owned_by(Training.owner_key_id, caller))
    return list(session.scalars(newest_first(query, Training, after).limit(limit)))


def add_version(session: Session, version: ModelVersion) -> None:
    session.add(version)
    session.flush()


# The worker's side: claim, renew, record, end.


def claim(
    session: Session, training_id: uuid.UUID, *, owner: str, lease_seconds: int, max_attempts: int
) -> bool:
    """Take the training if it is queued, or running under an expired lease with attempts left. One
    UPDATE decides, so two deliveries never both hold it."""
    now = utcnow()
    claimable = or_(Training.status == TrainingStatus.QUEUED, leases.abandoned(Training, now))
    result = session.execute(
        update(Training)
        .where(Training.id == training_id, claimable, Training.attempts < max_attempts)
        .values(
            status=TrainingStatus.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=Training.attempts + 1,
            started_at=now,
            progress=0.0,
            epochs=[],
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finish_unless_final(session: Session, training_id: uuid.UUID, **values: Any) -> bool:
    now = utcnow()
    result = session.execute(
        update(Training)
        .where(Training.id == training_id, Training.status.not_in(TRAINING_FINAL_STATUSES))
        .values(updated_at=now, finished_at=now, lease_owner=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# The reconciler's side.


def abandoned(session: Session, *, now: datetime, limit: int) -> list[tuple[uuid.UUID, int]]:
    """(id, attempts) of trainings whose worker stopped renewing their lease."""
    query = (
        select(Training.id, Training.attempts)
        .where(leases.abandoned(Training, now))
        .order_by(Training.lease_expires_at)
        .limit(limit)
    )
    return [(training_id, attempts) for training_id, attempts in session.execute(query)]


def count_queued(session: Session) -> int:
    query = select(func.count()).where(Training.status == TrainingStatus.QUEUED)
    return session.scalar(query) or 0


def stale_queued(session: Session, *, before: datetime, limit: int) -> list[uuid.UUID]:
    """The longest-waiting queued trainings sent before ``before``, after marking them sent now."""
    enqueued = func.coalesce(Training.enqueued_at, Training.created_at)
    candidates = list(
        session.scalars(
            select(Training.id)
            .where(Training.status == TrainingStatus.QUEUED, enqueued < before)
            .order_by(enqueued, Training.id)
            .limit(limit)
        )
    )
    if not candidates:
        return []
    now = utcnow()
    result = session.execute(
        update(Training)
        .where(Training.id.in_(candidates), Training.status == TrainingStatus.QUEUED)
        .values(enqueued_at=now, updated_at=now)
        .returning(Training.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())
