"""Sending trainings to the ``training`` queue, always after the database has committed them."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.orm import Session

from shared.broker import Queue, TaskName, get_celery
from shared.db import after_commit

log = logging.getLogger(__name__)


def send_training(training_id: uuid.UUID) -> None:
    try:
        get_celery().send_task(TaskName.TRAIN, args=[str(training_id)], queue=Queue.TRAINING.value)
    except Exception:
        # The training is committed and stays queued; the reconciler sends it again.
        log.exception("could not enqueue training", extra={"training_id": str(training_id)})


def enqueue_training(session: Session, training_id: uuid.UUID) -> None:
    after_commit(session, lambda: send_training(training_id))
