"""Sending work to the broker, always after the database has committed the job."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.orm import Session

from shared.broker import Queue, TaskName, get_celery
from shared.db import after_commit

log = logging.getLogger(__name__)


def send_analysis(job_id: uuid.UUID, *, bulk: bool = False) -> None:
    """Batch jobs go to the bulk queue; workers alternate queues, so single jobs are never stuck behind them."""
    try:
        queue = Queue.BULK if bulk else Queue.INFERENCE
        get_celery().send_task(TaskName.ANALYZE, args=[str(job_id)], queue=queue)
    except Exception:
        # The job is committed and stays queued; it is not lost, only waiting for the next send.
        log.exception("could not enqueue job", extra={"job_id": str(job_id)})


def enqueue_analysis(session: Session, job_id: uuid.UUID, *, bulk: bool = False) -> None:
    after_commit(session, lambda: send_analysis(job_id, bulk=bulk))
