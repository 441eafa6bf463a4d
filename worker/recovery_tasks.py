"""Thin task shells for the periodic sweeps, sent by the scheduler and run on the maintenance queue by
webhook workers. No model here: these workers never import torch."""

from __future__ import annotations

import logging
from dataclasses import asdict

from shared.broker import TaskName, get_celery
from shared.config import get_settings
from shared.db import is_transient
from shared.recovery.maintenance import purge_expired, reconcile_jobs
from shared.storage import get_storage
from shared.trainings.recovery import reconcile_trainings

log = logging.getLogger(__name__)
app = get_celery()


@app.task(name=TaskName.RECONCILE_JOBS, acks_late=True, reject_on_worker_lost=True)
def reconcile() -> None:
    """A failed run needs no retry: the next tick does the same work."""
    try:
        report = reconcile_jobs(get_settings(), get_storage())
        trainings = reconcile_trainings(get_settings())
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.warning("database unavailable; jobs are reconciled on the next tick")
        return
    if report:
        log.info(
            "jobs reconciled",
            extra={
                "failed": report.failed,
                "requeued": report.requeued,
                "resent": report.resent,
            },
        )
    if trainings:
        log.info("trainings reconciled", extra=asdict(trainings))


@app.task(name=TaskName.PURGE_EXPIRED, acks_late=True, reject_on_worker_lost=True)
def purge() -> None:
    try:
        report = purge_expired(get_settings(), get_storage())
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.warning("database unavailable; expired data is purged on the next run")
        return
    if any(asdict(report).values()):
        log.info("expired data purged", extra=asdict(report))
