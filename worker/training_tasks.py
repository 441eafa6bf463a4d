"""Thin task shell for trainings, run by ``emoq trainer`` on the ``training`` queue only."""

from __future__ import annotations

import logging
import uuid

from celery.exceptions import Reject

from shared.broker import TaskName, get_celery
from shared.config import get_settings
from shared.jobs.lease import ClaimOutcome
from shared.storage import get_storage
from worker import shutdown
from worker.retries import retrying_transient_failures, transient_retry_options
from worker.training.requested import run_training

log = logging.getLogger(__name__)
app = get_celery()


@app.task(name=TaskName.TRAIN, acks_late=True, reject_on_worker_lost=True, **transient_retry_options())
def train(training_id: str) -> None:
    """Idempotent: a delivery that finds the training ended, or held under a live lease, does nothing. If
    the worker dies mid-run, the reconciler queues the training again once its lease has expired."""
    if shutdown.requested():
        # Taken from the queue while the worker stops: the message goes back as it came, for the next one.
        raise Reject(requeue=True)
    with retrying_transient_failures():
        outcome = run_training(
            uuid.UUID(training_id),
            storage=get_storage(),
            settings=get_settings(),
            shutting_down=shutdown.requested,
        )
    if outcome is ClaimOutcome.BUSY:
        log.info(
            "training is held by another worker; dropping this delivery", extra={"training_id": training_id}
        )
