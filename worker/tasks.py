"""Thin task shells: take an id, hand over to domain code, decide about retries."""

from __future__ import annotations

import logging
import uuid
from multiprocessing.sharedctypes import RawValue
from typing import Any

from celery import Task
from celery.signals import worker_shutting_down

from shared.broker import TaskName, get_celery
from shared.config import get_settings
from shared.db import is_transient
from shared.jobs.lease import ClaimOutcome
from shared.logs import bind_job
from shared.storage import get_storage
from worker.analysis import analyze_job
from worker.runtime import get_classifier

log = logging.getLogger(__name__)
app = get_celery()

# One byte of memory shared with the pool processes, which are forked after this module is imported: the
# main process sets it when a warm (SIGTERM) or cold shutdown begins, and a running job, which reads it
# between windows, is handed back to the queue instead of holding up the stop for as long as it runs.
_shutdown_requested = RawValue("b", 0)


@worker_shutting_down.connect
def _note_shutdown(**_: Any) -> None:
    _shutdown_requested.value = 1


def shutting_down() -> bool:
    return bool(_shutdown_requested.value)


def backoff_seconds(retries: int) -> int:
    return min(2 ** (retries + 1), 300)


@app.task(name=TaskName.ANALYZE, bind=True, acks_late=True, reject_on_worker_lost=True)
def analyze(self: Task, job_id: str) -> None:
    settings = get_settings()
    with bind_job(job_id):
        try:
            classifier = get_classifier()
        except Exception as exc:
            # A model that cannot load is the deployment's fault, not the job's: keep the job queued.
            log.exception("model unavailable, retrying")
            raise self.retry(exc=exc, countdown=60, max_retries=settings.task_max_retries) from exc
        try:
            outcome = analyze_job(
                uuid.UUID(job_id),
                classifier=classifier,
                storage=get_storage(),
                settings=settings,
                shutting_down=shutting_down,
            )
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("transient failure, retrying", extra={"retries": self.request.retries})
            raise self.retry(
                exc=exc,
                countdown=backoff_seconds(self.request.retries),
                max_retries=settings.task_max_retries,
            ) from exc
        if outcome is ClaimOutcome.BUSY:
            # Another delivery holds a live lease and keeps renewing it. If that worker dies, its own
            # unacknowledged message comes back and claims the job once the lease has expired.
            log.info("job is held by another worker; dropping this duplicate delivery")
