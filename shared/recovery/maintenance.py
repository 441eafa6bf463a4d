"""The two periodic sweeps, each in short transactions: reconciling jobs with workers and the broker, and
purging what is past retention. Safe to run any number of times, and concurrently."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from shared.broker import analysis_queue
from shared.config import Settings
from shared.db import session_scope
from shared.models.base import utcnow
from shared.recovery import repository, retention, service
from shared.recovery.broker_depth import waiting_messages
from shared.recovery.service import Recovery
from shared.storage import Storage

log = logging.getLogger(__name__)

# Per sweep: a backlog larger than this is worked through over the next sweeps, in bounded transactions.
SWEEP_LIMIT = 500


@dataclass
class Reconciled:
    failed: int = 0
    requeued: int = 0
    resent: dict[str, int] = field(default_factory=dict)  # per queue name

    def __bool__(self) -> bool:
        return bool(self.failed or self.requeued or any(self.resent.values()))


def reconcile_jobs(settings: Settings, storage: Storage) -> Reconciled:
    """Abandoned jobs first (their re-sends are then counted as waiting), then queues short of messages."""
    report = Reconciled()
    with session_scope() as session:
        abandoned = repository.abandoned_jobs(session, now=utcnow(), limit=SWEEP_LIMIT)
    for job in abandoned:
        # One transaction each: ending one job (its webhook, its batch) never waits on another's.
        with session_scope() as session:
            outcome = service.recover_abandoned(session, storage, job, max_attempts=settings.max_attempts)
        report.failed += outcome is Recovery.FAILED
        report.requeued += outcome is Recovery.REQUEUED
        if outcome is not Recovery.NONE:
            log.warning("abandoned job recovered", extra={"job_id": str(job.id), "outcome": outcome.value})

    # Every model's pair of queues: each job is sent again to the queue of the model it asked for.
    queues = {
        analysis_queue(model, bulk=bulk): (model, bulk)
        for model in settings.model_names
        for bulk in (False, True)
    }
    try:
        waiting = waiting_messages(list(queues))
    except Exception:
        # Nothing can be sent while the broker is away; the jobs keep and the next sweep looks again.
        log.warning("broker unreachable; lost messages are looked for on the next sweep", exc_info=True)
        return report
    stale_before = utcnow() - timedelta(seconds=settings.requeue_after_seconds)
    for queue, (model, bulk) in queues.items():
        with session_scope() as session:
            sent = service.resend_lost(
                session,
                model=model,
                bulk=bulk,
                waiting_messages=waiting[queue],
                stale_before=stale_before,
                limit=SWEEP_LIMIT,
            )
        report.resent[queue] = len(sent)
        if sent:
            log.warning(
                "queued jobs sent again: the broker held fewer messages than queued jobs",
                extra={"queue": queue, "count": len(sent), "waiting": waiting[queue]},
            )
    return report


@dataclass
class PurgeReport:
    audio: int = 0
    jobs: int = 0
    batches: int = 0
    datasets: int = 0


def purge_expired(settings: Settings, storage: Storage) -> PurgeReport:
    """Audio past ``audio_retention_seconds`` (when set; at 0 it went when its job ended) and finished work
    past ``result_retention_days`` (0 keeps it forever), datasets included, a bounded transaction at a
    time until none is left."""
    report = PurgeReport()
    now = utcnow()
    if settings.audio_retention_seconds > 0:
        ended_before = now - timedelta(seconds=settings.audio_retention_seconds)
        while True:
            with session_scope() as session:
                count = retention.purge_audio(session, storage, ended_before=ended_before, limit=SWEEP_LIMIT)
            report.audio += count
            if count < SWEEP_LIMIT:
                break
    if settings.result_retention_days > 0:
        ended_before = now - timedelta(days=settings.result_retention_days)
        while True:
            with session_scope() as session:
                purged = retention.purge_finished(
                    session, storage, ended_before=ended_before, limit=SWEEP_LIMIT
                )
            report.jobs += purged.jobs
            report.batches += purged.batches
            if not purged:
                break
        while True:
            with session_scope() as session:
                count = retention.purge_datasets(
                    session, storage, created_before=ended_before, limit=SWEEP_LIMIT
                )
            report.datasets += count
            if count < SWEEP_LIMIT:
                break
    return report
