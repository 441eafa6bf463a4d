"""Batches in domain terms: many jobs created together, read and cancelled together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from shared.batches import repository
from shared.errors import NotFound
from shared.jobs import service as jobs
from shared.models import Batch, Job, JobStatus
from shared.storage import Storage


@dataclass(frozen=True)
class NewBatch:
    id: uuid.UUID
    jobs: list[jobs.NewJob]
    webhook_url: str | None
    metadata: dict[str, Any] | None


def create_batch(session: Session, storage: Storage, new: NewBatch) -> tuple[Batch, list[Job]]:
    batch = repository.add(
        session,
        Batch(id=new.id, job_count=len(new.jobs), webhook_url=new.webhook_url, client_metadata=new.metadata),
    )
    created = [jobs.create_job(session, job)[0] for job in new.jobs]
    # Files refused at intake are jobs born failed: they get their events, and may even end the batch.
    for job in created:
        if job.status == JobStatus.FAILED:
            jobs.job_ended(session, storage, job.id)
    return batch, created


def get_batch(session: Session, batch_id: uuid.UUID) -> Batch:
    batch = repository.get(session, batch_id)
    if batch is None:
        raise NotFound(f"no batch {batch_id}", code="batch_not_found")
    return batch


def cancel_batch(session: Session, storage: Storage, batch_id: uuid.UUID) -> Batch:
    get_batch(session, batch_id)
    for job_id in repository.unfinished_job_ids(session, batch_id):
        jobs.cancel_job(session, storage, job_id)
    return get_batch(session, batch_id)
