"""Batches in domain terms: many jobs created together, read and cancelled together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from shared.auth.caller import Caller
from shared.batches import repository
from shared.errors import NotFound
from shared.jobs import intake
from shared.jobs.admission import admit
from shared.lifecycle.ending import job_ended
from shared.lifecycle.finish import cancel_job
from shared.models import Batch, Job, JobStatus
from shared.storage import Storage


@dataclass(frozen=True)
class NewBatch:
    id: uuid.UUID
    jobs: list[intake.NewJob]
    webhook_url: str | None
    metadata: dict[str, Any] | None
    model: str | None  # every job of a batch is for one model; None until chosen: the caller's default
    with_features: bool = False
    transcribe: bool = False


def create_batch(
    session: Session, storage: Storage, caller: Caller, new: NewBatch
) -> tuple[Batch, list[Job]]:
    """Every job of the batch counts against the caller's limits; the batch is let in whole or not at all."""
    admit(session, caller, jobs=len(new.jobs), active=sum(job.error is None for job in new.jobs))
    batch = repository.add(
        session,
        Batch(
            id=new.id,
            owner_key_id=caller.key_id,
            job_count=len(new.jobs),
            webhook_url=new.webhook_url,
            client_metadata=new.metadata,
        ),
    )
    created = [intake.add_batch_job(session, caller, job) for job in new.jobs]
    # Files refused at intake are jobs born failed: they get their events, and may even end the batch.
    for job in created:
        if job.status == JobStatus.FAILED:
            job_ended(session, storage, job.id)
    return batch, created


def get_batch(session: Session, caller: Caller, batch_id: uuid.UUID) -> Batch:
    """The caller's batch; another key's batch is a 404 like one that does not exist."""
    batch = repository.get_visible(session, caller, batch_id)
    if batch is None:
        raise NotFound(f"no batch {batch_id}", code="batch_not_found")
    return batch


def cancel_batch(session: Session, storage: Storage, caller: Caller, batch_id: uuid.UUID) -> Batch:
    get_batch(session, caller, batch_id)
    for job_id in repository.unfinished_job_ids(session, batch_id):
        cancel_job(session, storage, caller, job_id)
    return get_batch(session, caller, batch_id)
