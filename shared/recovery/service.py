"""Putting lost and abandoned jobs back on track, in domain terms. Functions here flush; the caller commits.

Every decision is a conditional UPDATE on the job row, so a worker that claims the job at the same moment
keeps it, and two reconcilers running at once cannot both requeue or fail one job; a message sent twice
is harmless, as the claim drops the second delivery.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

from sqlalchemy.orm import Session

from shared import leases
from shared.jobs.queue import enqueue_analysis
from shared.lifecycle.ending import job_ended
from shared.models import Job
from shared.recovery import repository
from shared.recovery.repository import AbandonedJob
from shared.storage import Storage

WORKER_CRASHED = "worker_crashed"


class Recovery(Enum):
    FAILED = "failed"  # out of attempts: it ended as failed with worker_crashed
    REQUEUED = "requeued"  # back in the queue and sent again
    NONE = "none"  # a worker claimed it in the meantime


def recover_abandoned(
    session: Session, storage: Storage, job: AbandonedJob, *, max_attempts: int
) -> Recovery:
    """A job whose lease expired while processing: its worker died (or was cut off for longer than the
    lease). With attempts left it is queued and sent again; without, it fails like any other job ends."""
    if job.attempts >= max_attempts:
        failed = fail_if_exhausted(session, storage, job.id, max_attempts=max_attempts)
        return Recovery.FAILED if failed else Recovery.NONE
    if not leases.requeue_if_abandoned(session, Job, job.id, max_attempts=max_attempts):
        return Recovery.NONE
    enqueue_analysis(session, job.id, model=job.model, bulk=job.bulk)
    return Recovery.REQUEUED


def fail_if_exhausted(session: Session, storage: Storage, job_id: uuid.UUID, *, max_attempts: int) -> bool:
    """End an abandoned job that has used up its attempts: its audio, webhook and batch follow as for any
    failure. Also asked before every claim, so a redelivered message cannot start a fourth attempt."""
    if not leases.fail_if_abandoned(
        session,
        Job,
        job_id,
        max_attempts=max_attempts,
        code=WORKER_CRASHED,
        message=f"the worker analysing this job stopped on each of its {max_attempts} attempts",
    ):
        return False
    job_ended(session, storage, job_id)
    return True


def resend_lost(
    session: Session,
    *,
    model: str,
    bulk: bool,
    waiting_messages: int,
    stale_before: datetime,
    limit: int,
) -> list[uuid.UUID]:
    """Send again the oldest jobs of one queue (``model``'s, single or ``bulk``) queued since before
    ``stale_before``, as many as the broker is short of.

    Every queued job should have a message waiting; when the queue holds fewer messages than there are
    queued jobs, at least that many were lost (a broker restarted empty, a send failed). Which ones is
    unknown, so the oldest go first: under first-in-first-out they are the ones a worker would have
    reached. A healthy backlog, however deep, has a message per job and nothing is sent again; a
    duplicate that slips through is dropped by the claim.
    """
    missing = repository.count_queued(session, model=model, bulk=bulk) - waiting_messages
    if missing <= 0:
        return []
    candidates = repository.oldest_stale_queued(
        session, before=stale_before, model=model, bulk=bulk, limit=min(missing, limit)
    )
    sent = repository.mark_enqueued(session, candidates)
    for job_id in sent:
        enqueue_analysis(session, job_id, model=model, bulk=bulk)
    return sent
