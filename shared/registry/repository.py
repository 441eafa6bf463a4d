"""Every SQL statement about registered model versions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete as sql_delete
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from shared.auth.caller import Caller, owned_by
from shared.db import LockMode, locked
from shared.models import Job, JobStatus, ModelVersion, Training, TrainingStatus


def get(session: Session, version_id: uuid.UUID) -> ModelVersion | None:
    """Whoever owns it: for the worker, which loads the version a job asked for."""
    return session.get(ModelVersion, version_id, populate_existing=True)


def get_visible(
    session: Session, caller: Caller, version_id: uuid.UUID, *, lock: LockMode | None = None
) -> ModelVersion | None:
    """The version if it belongs to the caller: another key's version is simply not found."""
    query = select(ModelVersion).where(
        ModelVersion.id == version_id, owned_by(ModelVersion.owner_key_id, caller)
    )
    return session.scalar(locked(query, lock).execution_options(populate_existing=True))


def list_owned(session: Session, caller: Caller) -> list[ModelVersion]:
    """The caller's versions, newest first."""
    query = (
        select(ModelVersion)
        .where(owned_by(ModelVersion.owner_key_id, caller))
        .order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())
    )
    return list(session.scalars(query))


def default_of(session: Session, caller: Caller) -> ModelVersion | None:
    """The caller's most recently promoted version, if any."""
    query = (
        select(ModelVersion)
        .where(owned_by(ModelVersion.owner_key_id, caller), ModelVersion.promoted_at.is_not(None))
        .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def in_use(session: Session, version_id: uuid.UUID) -> bool:
    """Whether a job, or a training that fine-tunes it, still needs the version: one not ended yet."""
    job = exists().where(
        Job.model_version_id == version_id, Job.status.in_((JobStatus.QUEUED, JobStatus.PROCESSING))
    )
    training = exists().where(
        Training.base_model == str(version_id),
        Training.status.in_((TrainingStatus.QUEUED, TrainingStatus.RUNNING)),
    )
    return bool(session.scalar(select(job | training)))


def set_promoted(
    session: Session, caller: Caller, version_id: uuid.UUID | None, when: datetime | None
) -> None:
    """``promoted_at`` of one of the caller's versions, or (``version_id`` None) of all of them."""
    query = update(ModelVersion).where(owned_by(ModelVersion.owner_key_id, caller))
    if version_id is not None:
        query = query.where(ModelVersion.id == version_id)
    session.execute(query.values(promoted_at=when).execution_options(synchronize_session=False))


def add(session: Session, version: ModelVersion) -> ModelVersion:
    session.add(version)
    session.flush()
    return version


def delete(session: Session, version_id: uuid.UUID) -> None:
    """Finished jobs that ran on it keep their results; their reference is cleared (ON DELETE SET NULL)."""
    session.execute(
        sql_delete(ModelVersion)
        .where(ModelVersion.id == version_id)
        .execution_options(synchronize_session=False)
    )
