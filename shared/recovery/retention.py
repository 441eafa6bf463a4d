"""Retention: audio kept past its period, and finished work past its own. Functions flush; the caller
commits. Files are deleted only after the commit that forgets them, so a rollback never leaves a row
pointing at audio that is gone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shared.datasets import repository as datasets
from shared.datasets.service import delete_datasets
from shared.lifecycle.ending import delete_audio_after_commit
from shared.recovery import repository
from shared.storage import Storage


def purge_audio(session: Session, storage: Storage, *, ended_before: datetime, limit: int) -> int:
    """Delete the audio of jobs that ended before ``ended_before``; returns how many."""
    expired = repository.audio_past_retention(session, ended_before=ended_before, limit=limit)
    if not expired:
        return 0
    repository.forget_audio(session, [job_id for job_id, _ in expired])
    for _, key in expired:
        delete_audio_after_commit(session, storage, key)
    return len(expired)


@dataclass(frozen=True)
class Purged:
    jobs: int
    batches: int

    def __bool__(self) -> bool:
        return bool(self.jobs or self.batches)


def purge_finished(session: Session, storage: Storage, *, ended_before: datetime, limit: int) -> Purged:
    """Delete jobs outside batches that ended before ``ended_before``, and batches whose last job did (or
    that have no jobs left), with their results, webhook events and any audio still kept."""
    jobs = repository.expired_standalone_jobs(session, ended_before=ended_before, limit=limit)
    batch_ids = repository.expired_batches(session, ended_before=ended_before, limit=limit)
    keys = [key for _, key in jobs if key is not None]
    keys += repository.audio_keys_of_batches(session, batch_ids) if batch_ids else []
    deleted_jobs = repository.delete_jobs(session, [job_id for job_id, _ in jobs]) if jobs else 0
    deleted_batches = repository.delete_batches(session, batch_ids) if batch_ids else 0
    for key in keys:
        delete_audio_after_commit(session, storage, key)
    return Purged(jobs=deleted_jobs, batches=deleted_batches)


def purge_datasets(session: Session, storage: Storage, *, created_before: datetime, limit: int) -> int:
    """Delete datasets uploaded before ``created_before`` with their stored clips; returns how many. A
    dataset is finished work from the moment it is stored, so it keeps as long as a finished job does."""
    expired = datasets.created_before(session, created_before, limit=limit)
    return delete_datasets(session, storage, expired) if expired else 0
