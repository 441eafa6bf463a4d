"""Thin task shells: take an id, hand over to domain code, decide about retries."""

from __future__ import annotations

import logging
import uuid

from celery import Task
from celery.exceptions import Reject

from shared.broker import TaskName, get_celery
from shared.config import Settings, get_settings
from shared.db import session_scope
from shared.errors import ModelUnavailable
from shared.jobs import lease, repository
from shared.jobs.lease import ClaimOutcome
from shared.jobs.queue import enqueue_analysis
from shared.lifecycle import finish
from shared.logs import bind_job
from shared.storage import get_storage
from worker import shutdown
from worker.analysis import analyze_job
from worker.retries import retrying_transient_failures, transient_retry_options
from worker.runtime import get_classifier, get_transcriber, get_version_classifier

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
        with retrying_transient_failures():
            model, version_id = model_of(uuid.UUID(job_id), settings)
        if model not in settings.worker_model_names:
            # Sent to a queue this worker does not read (the queues were set up by hand): the job goes to
            # its model's queue. One this service no longer knows stays queued until it is configured.
            log.warning(
                "job is for a model this worker does not serve; sent to its queue", extra={"model": model}
            )
            with retrying_transient_failures():
                send_to_its_queue(uuid.UUID(job_id))
            return
        if version_id is not None:
            with retrying_transient_failures(), session_scope() as session:
                settled = lease.nothing_to_do(session, uuid.UUID(job_id))
            if settled is not None:
                # Most such messages find their job ended or held by the pass that took it with others:
                # dropped before loading a version for nothing.
                log.info("job has ended or is held; dropping this delivery", extra={"outcome": settled.value})
                return
            try:
                with retrying_transient_failures():
                    classifier = get_version_classifier(version_id)
            except ModelUnavailable as exc:
                # The owner's model, deleted or broken: no retry brings it back, so the job ends now.
                fail_unclaimed(uuid.UUID(job_id), code=exc.code, message=exc.message)
                return
        else:
            try:
                classifier = get_classifier(model)
            except Exception as exc:
                # A model that cannot load is the deployment's fault, not the job's: keep the job queued.
                log.exception("model unavailable, retrying", extra={"model": model})
                raise self.retry(exc=exc, countdown=60, max_retries=settings.task_max_retries) from exc
        with retrying_transient_failures():
            outcome = analyze_job(
                uuid.UUID(job_id),
                model=model,
                classifier=classifier,
                storage=get_storage(),
                settings=settings,
                shutting_down=shutdown.requested,
                transcriber=get_transcriber,
                model_version_id=version_id,
            )
        if outcome is ClaimOutcome.BUSY:
            # Another delivery holds a live lease and keeps renewing it. If that worker dies, its own
            # unacknowledged message comes back and claims the job once the lease has expired.
            log.info("job is held by another worker; dropping this duplicate delivery")


def send_to_its_queue(job_id: uuid.UUID) -> None:
    """Its model's queue, single or bulk as the job is, once this read has ended."""
    with session_scope() as session:
        job = repository.get(session, job_id)
        if job is not None:
            enqueue_analysis(session, job_id, model=job.model, bulk=job.batch_id is not None)


def model_of(job_id: uuid.UUID, settings: Settings) -> tuple[str, uuid.UUID | None]:
    """The name of the model the job asked for (the default for jobs older than named models, and for a
    job that is gone, which the analysis then drops) and the registered version it runs on, if any."""
    with session_scope() as session:
        model, version_id = repository.model_of(session, job_id)
    return model or settings.default_model, version_id


def fail_unclaimed(job_id: uuid.UUID, *, code: str, message: str) -> None:
    """End a job that has not ended, before any worker claims it."""
    log.info("job failed", extra={"error_code": code})
    with retrying_transient_failures(), session_scope() as session:
        finish.fail_job(session, get_storage(), job_id, code=code, message=message)
