"""Sending work to the broker, always after the database has committed the job."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.orm import Session

from shared.broker import TaskName, analysis_queue, get_celery
from shared.config import get_settings
from shared.db import after_commit

log = logging.getLogger(__name__)


def send_analysis(job_id: uuid.UUID, *, model: str | None, bulk: bool = False) -> None:
    """To the queue of the job's model (None: a job older than named models, the default's). Batch jobs
    go to the model's bulk queue; workers alternate queues, so single jobs are never stuck behind them."""
    try:
        queue = analysis_queue(model or get_settings().default_model, bulk=bulk)
        get_celery().send_task(TaskName.ANALYZE, args=[str(job_id)], queue=queue)
    except Exception:
        # The job is committed and stays queued; it is not lost, only waiting for the next send.
        log.exception("could not enqueue job", extra={"job_id": str(job_id)})


def enqueue_analysis(session: Session, job_id: uuid.UUID, *, model: str | None, bulk: bool = False) -> None:
    after_commit(session, lambda: send_analysis(job_id, model=model, bulk=bulk))
