"""Thin task shells: take an id, hand over to domain code, decide about retries."""

from __future__ import annotations

import logging
import uuid

from celery import Task
from celery.exceptions import Reject

from shared.broker import TaskName, get_celery
from shared.config import get_settings
from shared.jobs.lease import ClaimOutcome
from shared.logs import bind_job
from shared.storage import get_storage
from worker import shutdown
from worker.analysis import analyze_job
from worker.retries import retrying_transient_failures, transient_retry_options
from worker.runtime import get_classifier, get_transcriber

log = logging.getLogger(__name__)
app = get_celery()


@app.task(
    name=TaskName.ANALYZE, bind=True, acks_late=True, reject_on_worker_lost=True, **transient_retry_options()
)
def analyze(self: Task, job_id: str) -> None:
    settings = get_settings()
    with bind_job(job_id):
        if shutdown.requested():
            # Taken from the queue while the worker stops: neither claim the job nor load a model for
            # it; the message goes back to the queue as it came, for the next worker.
            log.info("worker is stopping; job left in the queue")
            raise Reject(requeue=True)
        try:
            classifier = get_classifier()
        except Exception as exc:
            # A model that cannot load is the deployment's fault, not the job's: keep the job queued.
            log.exception("model unavailable, retrying")
            raise self.retry(exc=exc, countdown=60, max_retries=settings.task_max_retries) from exc
        with retrying_transient_failures():
            outcome = analyze_job(
                uuid.UUID(job_id),
                classifier=classifier,
                storage=get_storage(),
                settings=settings,
                shutting_down=shutdown.requested,
                transcriber=get_transcriber,
            )
        if outcome is ClaimOutcome.BUSY:
            # Another delivery holds a live lease and keeps renewing it. If that worker dies, its own
            # unacknowledged message comes back and claims the job once the lease has expired.
            log.info("job is held by another worker; dropping this duplicate delivery")
