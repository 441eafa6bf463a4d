"""Datasets in domain terms: stored once checked, read by their owner, deleted with their audio. The
functions flush; the caller commits. Stored clips are deleted only after the commit that forgets them."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from shared.auth.caller import Caller
from shared.datasets import repository
from shared.datasets.refusals import Refusal
from shared.db import LockMode, after_commit, on_rollback
from shared.errors import Conflict, NotFound
from shared.models import Dataset, DatasetClip, DatasetStatus
from shared.schemas.datasets import DatasetRead
from shared.storage import Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewClip:
    storage_key: str
    path: str
    label: str
    speaker: str | None
    duration_s: float | None
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class NewDataset:
    name: str
    clips: list[NewClip]
    refused: list[Refusal] = field(default_factory=list)


def create_dataset(session: Session, storage: Storage, caller: Caller, new: NewDataset) -> Dataset:
    """Record a checked dataset whose clips are already stored; if the transaction rolls back, the
    stored clips are deleted, so a refused or failed upload leaves nothing behind."""
    for clip in new.clips:
        on_rollback(session, lambda key=clip.storage_key: storage.delete(key))
    dataset_id = uuid.uuid4()
    dataset = Dataset(
        id=dataset_id,
        owner_key_id=caller.key_id,
        name=new.name,
        status=DatasetStatus.READY,
        clip_count=len(new.clips),
        label_count=len({clip.label for clip in new.clips}),
        speaker_count=len({clip.speaker for clip in new.clips if clip.speaker is not None}),
        total_duration_s=sum(clip.duration_s or 0.0 for clip in new.clips),
        total_bytes=sum(clip.size_bytes for clip in new.clips),
        refused=[refusal.as_dict() for refusal in new.refused],
    )
    rows = [
        DatasetClip(
            dataset_id=dataset_id,
            storage_key=clip.storage_key,
            path=clip.path,
            label=clip.label,
            speaker=clip.speaker,
            duration_s=clip.duration_s,
            size_bytes=clip.size_bytes,
            sha256=clip.sha256,
        )
        for clip in new.clips
    ]
    repository.add(session, dataset, rows)
    facts = {"dataset_id": str(dataset_id), "clips": len(rows), "refused": len(new.refused)}
    after_commit(session, lambda: log.info("dataset stored", extra=facts))
    return dataset


def get_dataset(
    session: Session, caller: Caller, dataset_id: uuid.UUID, *, lock: LockMode | None = None
) -> Dataset:
    """The caller's dataset; another key's dataset is a 404 like one that does not exist."""
    dataset = repository.get_visible(session, caller, dataset_id, lock=lock)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}", code="dataset_not_found")
    return dataset


def delete_dataset(session: Session, storage: Storage, caller: Caller, dataset_id: uuid.UUID) -> None:
    """Refused while a training that has not ended reads it: its clips would go from under it."""
    get_dataset(session, caller, dataset_id, lock="update")
    if repository.in_training(session, dataset_id):
        raise Conflict(
            "a training that has not ended reads this dataset; cancel it or wait", code="dataset_in_use"
        )
    delete_datasets(session, storage, [dataset_id])


def delete_datasets(session: Session, storage: Storage, dataset_ids: list[uuid.UUID]) -> int:
    """The datasets with their clips' rows now and their stored audio once that is committed."""
    keys = repository.storage_keys(session, dataset_ids)
    deleted = repository.delete_datasets(session, dataset_ids)
    for key in keys:
        after_commit(session, lambda key=key: storage.delete(key))
    return deleted


def describe(session: Session, dataset: Dataset) -> DatasetRead:
    """The dataset with its files, its labels and speakers counted."""
    return DatasetRead.build(
        dataset,
        repository.clips(session, dataset.id),
        repository.label_counts(session, dataset.id),
        repository.speaker_counts(session, dataset.id),
    )
