"""Putting lost and abandoned trainings back on track, as the reconciler does for jobs: a training whose
worker died is queued again (it restarts from scratch) or, out of attempts, failed; a queued training
whose message was lost is sent again. Every decision is a conditional UPDATE, so a worker claiming the
training at the same moment keeps it, and a message sent twice is dropped by the claim."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from shared import leases
from shared.broker import Queue
from shared.config import Settings
from shared.db import session_scope
from shared.models import Training
from shared.models.base import utcnow
from shared.recovery.broker_depth import waiting_messages
from shared.trainings import repository
from shared.trainings.lease import fail_if_exhausted
from shared.trainings.queue import enqueue_training

log = logging.getLogger(__name__)

SWEEP_LIMIT = 100


@dataclass
class RecoveredTrainings:
    failed: int = 0
    requeued: int = 0
    resent: int = 0

    def __bool__(self) -> bool:
        return bool(self.failed or self.requeued or self.resent)


def reconcile_trainings(settings: Settings) -> RecoveredTrainings:
    report = RecoveredTrainings()
    with session_scope() as session:
        abandoned = repository.abandoned(session, now=utcnow(), limit=SWEEP_LIMIT)
    for training_id, attempts in abandoned:
        # One transaction each, as for jobs: ending one (its webhook) never waits on another.
        with session_scope() as session:
            if attempts >= settings.max_attempts:
                outcome = (
                    "failed"
                    if fail_if_exhausted(session, training_id, max_attempts=settings.max_attempts)
                    else None
                )
            elif leases.requeue_if_abandoned(
                session, Training, training_id, max_attempts=settings.max_attempts
            ):
                enqueue_training(session, training_id)
                outcome = "requeued"
            else:
                outcome = None  # a worker claimed it in the meantime
        report.failed += outcome == "failed"
        report.requeued += outcome == "requeued"
        if outcome:
            log.warning(
                "abandoned training recovered", extra={"training_id": str(training_id), "outcome": outcome}
            )
    try:
        waiting = waiting_messages([Queue.TRAINING.value])[Queue.TRAINING.value]
    except Exception:
        log.warning("broker unreachable; lost trainings are looked for on the next sweep", exc_info=True)
        return report
    stale_before = utcnow() - timedelta(seconds=settings.requeue_after_seconds)
    with session_scope() as session:
        # As for jobs: only when the queue holds fewer messages than there are queued trainings.
        missing = repository.count_queued(session) - waiting
        sent = (
            repository.stale_queued(session, before=stale_before, limit=min(missing, SWEEP_LIMIT))
            if missing > 0
            else []
        )
        for training_id in sent:
            enqueue_training(session, training_id)
    report.resent = len(sent)
    return report
