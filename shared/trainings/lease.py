"""The worker's side of a training: claimed under a lease, its epochs recorded, ended once.

Every change is conditional on the lease, so a worker that lost its training (cancelled, or taken over
after its lease expired) changes nothing, and above all registers no model.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from shared import leases
from shared.jobs.lease import ClaimOutcome
from shared.models import TRAINING_FINAL_STATUSES, ModelVersion, Training, TrainingStatus
from shared.models.base import utcnow
from shared.trainings import repository
from shared.trainings.ending import training_ended
from shared.trainings.queue import enqueue_training

WORKER_CRASHED = "training_interrupted"


def claim_training(
    session: Session, training_id: uuid.UUID, *, owner: str, lease_seconds: int, max_attempts: int
) -> ClaimOutcome:
    """Claim it; one whose workers died ``max_attempts`` times ends as failed here instead."""
    fail_if_exhausted(session, training_id, max_attempts=max_attempts)
    if repository.claim(
        session, training_id, owner=owner, lease_seconds=lease_seconds, max_attempts=max_attempts
    ):
        return ClaimOutcome.CLAIMED
    training = repository.get(session, training_id)
    if training is None or training.status in TRAINING_FINAL_STATUSES:
        return ClaimOutcome.DONE
    return ClaimOutcome.BUSY


def fail_if_exhausted(session: Session, training_id: uuid.UUID, *, max_attempts: int) -> bool:
    """End an abandoned training that used up its attempts, with its webhook."""
    if not leases.fail_if_abandoned(
        session,
        Training,
        training_id,
        max_attempts=max_attempts,
        code=WORKER_CRASHED,
        message=f"the worker running this training stopped on each of its {max_attempts} attempts",
    ):
        return False
    training_ended(session, training_id)
    return True


def record_epochs(
    session: Session, training_id: uuid.UUID, owner: str, epochs: list[dict[str, Any]], progress: float
) -> bool:
    """Every epoch so far, while this owner holds the training; False once it lost it."""
    return leases.update_owned(session, Training, training_id, owner, epochs=epochs, progress=progress)


def release_training(session: Session, training_id: uuid.UUID, owner: str) -> bool:
    """Hand a training this owner holds back to the queue and send it again (its worker is stopping). The
    attempt is given back too: ``max_attempts`` stops trainings whose workers die, and this one did not."""
    if not leases.update_owned(
        session,
        Training,
        training_id,
        owner,
        status=TrainingStatus.QUEUED,
        attempts=Training.attempts - 1,
        lease_owner=None,
        lease_expires_at=None,
        progress=0.0,
        epochs=[],
        enqueued_at=utcnow(),
    ):
        return False
    enqueue_training(session, training_id)
    return True


def complete_training(
    session: Session, training_id: uuid.UUID, owner: str, version: ModelVersion, evaluation: dict[str, Any]
) -> bool:
    """Mark it succeeded and register its model version in one transaction, only while this owner holds
    it: a version is listed exactly when its training succeeded."""
    if not leases.update_owned(
        session,
        Training,
        training_id,
        owner,
        status=TrainingStatus.SUCCEEDED,
        evaluation=evaluation,
        progress=1.0,
        finished_at=utcnow(),
        lease_owner=None,
        lease_expires_at=None,
    ):
        return False
    repository.add_version(session, version)
    training_ended(session, training_id)
    return True


def fail_training(session: Session, training_id: uuid.UUID, owner: str, *, code: str, message: str) -> bool:
    if not leases.update_owned(
        session,
        Training,
        training_id,
        owner,
        status=TrainingStatus.FAILED,
        error_code=code,
        error_message=message[:2000],
        finished_at=utcnow(),
        lease_owner=None,
        lease_expires_at=None,
    ):
        return False
    training_ended(session, training_id)
    return True
