"""Every SQL statement about datasets and their clips."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Exists, delete, exists, func, select
from sqlalchemy.orm import Session

from shared.auth.caller import Caller, owned_by
from shared.db import LockMode, locked
from shared.models import Dataset, DatasetClip, Training, TrainingStatus
from shared.paging import newest_first


def add(session: Session, dataset: Dataset, clips: list[DatasetClip]) -> Dataset:
    session.add(dataset)
    session.flush()
    session.add_all(clips)
    session.flush()
    return dataset


def get_visible(
    session: Session, caller: Caller, dataset_id: uuid.UUID, *, lock: LockMode | None = None
) -> Dataset | None:
    """The dataset if it belongs to the caller: another key's dataset is simply not found."""
    query = select(Dataset).where(Dataset.id == dataset_id, owned_by(Dataset.owner_key_id, caller))
    return session.scalar(locked(query, lock).execution_options(populate_existing=True))


def _read_by_training(dataset_id: ColumnElement[uuid.UUID] | uuid.UUID) -> Exists:
    """A training that has not ended reads the dataset."""
    return exists().where(
        Training.dataset_id == dataset_id,
        Training.status.in_((TrainingStatus.QUEUED, TrainingStatus.RUNNING)),
    )


def in_training(session: Session, dataset_id: uuid.UUID) -> bool:
    return bool(session.scalar(select(_read_by_training(dataset_id))))


def list_page(
    session: Session, caller: Caller, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Dataset]:
    """The caller's datasets, newest first; ``after`` is the (created_at, id) of the previous page's last."""
    query = select(Dataset).where(owned_by(Dataset.owner_key_id, caller))
    return list(session.scalars(newest_first(query, Dataset, after).limit(limit)))


def clips(session: Session, dataset_id: uuid.UUID) -> list[DatasetClip]:
    query = select(DatasetClip).where(DatasetClip.dataset_id == dataset_id).order_by(DatasetClip.path)
    return list(session.scalars(query))


def label_counts(session: Session, dataset_id: uuid.UUID) -> list[tuple[str, int, float]]:
    """(label, files, seconds) for each label, by label."""
    query = (
        select(DatasetClip.label, func.count(), func.coalesce(func.sum(DatasetClip.duration_s), 0.0))
        .where(DatasetClip.dataset_id == dataset_id)
        .group_by(DatasetClip.label)
        .order_by(DatasetClip.label)
    )
    return [(label, count, float(seconds)) for label, count, seconds in session.execute(query)]


def speaker_counts(session: Session, dataset_id: uuid.UUID) -> list[tuple[str, int]]:
    query = (
        select(DatasetClip.speaker, func.count())
        .where(DatasetClip.dataset_id == dataset_id, DatasetClip.speaker.is_not(None))
        .group_by(DatasetClip.speaker)
        .order_by(DatasetClip.speaker)
    )
    return [(speaker, count) for speaker, count in session.execute(query)]


def storage_keys(session: Session, dataset_ids: list[uuid.UUID]) -> list[str]:
    query = select(DatasetClip.storage_key).where(DatasetClip.dataset_id.in_(dataset_ids))
    return list(session.scalars(query))


def created_before(session: Session, cutoff: datetime, *, limit: int) -> list[uuid.UUID]:
    """Datasets uploaded before ``cutoff`` that no unfinished training reads (they go once it has ended)."""
    query = (
        select(Dataset.id)
        .where(Dataset.created_at < cutoff, ~_read_by_training(Dataset.id))
        .order_by(Dataset.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def delete_datasets(session: Session, dataset_ids: list[uuid.UUID]) -> int:
    """Their clips go with them (ON DELETE CASCADE)."""
    result = session.execute(
        delete(Dataset).where(Dataset.id.in_(dataset_ids)).execution_options(synchronize_session=False)
    )
    return result.rowcount
