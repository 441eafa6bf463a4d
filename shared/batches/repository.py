"""Every SQL statement about batches."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from shared.auth.caller import Caller, owned_by
from shared.models import FINAL_STATUSES, Batch, Job, JobResultRow, ModelVersion
from shared.models.base import utcnow


def get(session: Session, batch_id: uuid.UUID, *, for_update: bool = False) -> Batch | None:
    query = select(Batch).where(Batch.id == batch_id).execution_options(populate_existing=True)
    # Row lock (PostgreSQL): the jobs of one batch end one at a time, so exactly one sees the last end.
    # FOR NO KEY UPDATE, not FOR UPDATE: a transaction that ends a job has usually taken a key-share lock
    # on its batch already (updating its job row a second time re-checks the foreign key), and two of them
    # each upgrading that to FOR UPDATE wait for each other: a deadlock, measured in most kill -9 runs.
    return session.scalar(query.with_for_update(key_share=True) if for_update else query)


def get_visible(session: Session, caller: Caller, batch_id: uuid.UUID) -> Batch | None:
    """The batch if it belongs to the caller: another key's batch is simply not found."""
    query = select(Batch).where(Batch.id == batch_id, owned_by(Batch.owner_key_id, caller))
    return session.scalar(query.execution_options(populate_existing=True))


def add(session: Session, batch: Batch) -> Batch:
    session.add(batch)
    session.flush()
    return batch


@dataclass(frozen=True)
class JobTally:
    """What a batch's jobs add up to: how many in each status, the progress of all of them together
    (finished jobs count whole, running ones by their progress) and when the first one started."""

    counts: dict[str, int]
    progress: float
    started_at: datetime | None


def tally_jobs(session: Session, batch_id: uuid.UUID) -> JobTally:
    """In one statement: a batch's status is what its clients poll, often."""
    done = case((Job.status.in_(FINAL_STATUSES), 1.0), else_=Job.progress)
    rows = session.execute(
        select(Job.status, func.count(), func.sum(done), func.min(Job.started_at))
        .where(Job.batch_id == batch_id)
        .group_by(Job.status)
    ).all()
    started = [row[3] for row in rows if row[3] is not None]
    return JobTally(
        counts={row[0]: row[1] for row in rows},
        progress=float(sum(row[2] or 0.0 for row in rows)),
        started_at=min(started, default=None),
    )


def unfinished_count(session: Session, batch_id: uuid.UUID) -> int:
    query = select(func.count()).where(Job.batch_id == batch_id, Job.status.not_in(FINAL_STATUSES))
    return session.scalar(query) or 0


def mark_finished(session: Session, batch_id: uuid.UUID) -> bool:
    result = session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.finished_at.is_(None))
        .values(finished_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def jobs_page(session: Session, batch_id: uuid.UUID, *, after_position: int, limit: int) -> list[Job]:
    query = (
        select(Job)
        # One statement with the results joined, not a second one for them; a page never shows segments.
        .options(joinedload(Job.result).defer(JobResultRow.segments))
        .where(Job.batch_id == batch_id, Job.position > after_position)
        .order_by(Job.position)
        .limit(limit)
    )
    return list(session.scalars(query))


def unfinished_job_ids(session: Session, batch_id: uuid.UUID) -> list[uuid.UUID]:
    query = select(Job.id).where(Job.batch_id == batch_id, Job.status.not_in(FINAL_STATUSES))
    return list(session.scalars(query))


def asked_for_features(session: Session, batch_id: uuid.UUID) -> bool:
    """Whether the batch's jobs were submitted with ``features=true`` (all of a batch's jobs share it)."""
    query = select(Job.id).where(Job.batch_id == batch_id, Job.with_features.is_(True)).limit(1)
    return session.scalar(query) is not None


def result_labels(session: Session, batch_id: uuid.UUID) -> set[str]:
    """Every label any result of the batch scored."""
    query = (
        select(JobResultRow.scores).join(Job, Job.id == JobResultRow.job_id).where(Job.batch_id == batch_id)
    )
    return {score["label"] for scores in session.scalars(query) for score in scores}


def models_asked(session: Session, batch_id: uuid.UUID) -> set[str | None]:
    """The names of the served models whose own checkpoints the batch's jobs asked for (None: older than
    named models); jobs on a registered version are in ``version_labels``."""
    query = select(Job.model).where(Job.batch_id == batch_id, Job.model_version_id.is_(None)).distinct()
    return set(session.scalars(query))


def version_labels(session: Session, batch_id: uuid.UUID) -> set[str]:
    """The labels of the registered versions the batch's jobs asked for."""
    asked = select(Job.model_version_id).where(Job.batch_id == batch_id, Job.model_version_id.is_not(None))
    query = select(ModelVersion.labels).where(ModelVersion.id.in_(asked))
    return {label for labels in session.scalars(query) for label in labels}


def iter_finished_jobs(session: Session, batch_id: uuid.UUID, *, page: int = 500) -> Iterator[Job]:
    """Finished jobs in submission order, a page at a time so a huge batch never sits in memory."""
    position = -1
    while True:
        query = (
            select(Job)
            .options(selectinload(Job.result))
            .where(Job.batch_id == batch_id, Job.status.in_(FINAL_STATUSES), Job.position > position)
            .order_by(Job.position)
            .limit(page)
        )
        jobs = list(session.scalars(query))
        if not jobs:
            return
        yield from jobs
        position = jobs[-1].position or 0
        session.expunge_all()
