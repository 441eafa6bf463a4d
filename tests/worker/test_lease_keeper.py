"""The lease keeper writes a held job's progress once the job has been held a while, not before."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from shared.catalog.names import DEFAULT_NAME
from shared.config import Settings
from shared.db import session_scope
from shared.jobs import lease
from shared.models import Job, JobStatus
from tests.worker.test_batching import queue_job
from tests.worker.test_inference import speechlike
from worker import lease_keeper
from worker.lease_keeper import LeaseKeeper


def held_jobs(tmp_path: Path, owner: str, count: int) -> list[uuid.UUID]:
    """Queued jobs, claimed by ``owner`` as a worker claims them."""
    queued = [queue_job(tmp_path, speechlike(0.5, seed=i)) for i in range(count)]
    with session_scope() as session:
        claimed = lease.claim_queued(session, model=DEFAULT_NAME, owner=owner, lease_seconds=60, limit=count)
    assert {job.id for job in claimed} == set(queued)
    return queued


def stored_progress(job_id: uuid.UUID) -> float:
    with session_scope() as session:
        return session.get(Job, job_id).progress


def test_progress_is_written_only_for_a_job_held_long_enough_to_be_watched(
    embedded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_keeper, "PROGRESS_AFTER_SECONDS", 0.3)
    (job_id,) = held_jobs(tmp_path, "w", 1)
    keeper = LeaseKeeper("w", lease_seconds=60, progress_of=lambda: {job_id: 0.5})

    keeper.renew_if_due()
    assert stored_progress(job_id) == 0.0, "a job just claimed may end before anyone looks"

    time.sleep(0.35)
    keeper.renew_if_due()
    assert stored_progress(job_id) == 0.5


def test_a_job_no_longer_held_is_reported_lost_at_the_next_write(
    embedded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_keeper, "PROGRESS_AFTER_SECONDS", 0.0)
    kept, cancelled = held_jobs(tmp_path, "w", 2)
    with session_scope() as session:
        session.get(Job, cancelled).status = JobStatus.CANCELLED
    keeper = LeaseKeeper("w", lease_seconds=60, progress_of=lambda: {kept: 0.3, cancelled: 0.3})

    keeper.renew_if_due()

    assert keeper.lost() == {cancelled}
    assert stored_progress(kept) == 0.3
