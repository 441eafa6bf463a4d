"""Registered model versions made directly, as a finished training would register them: a checkpoint folder
stored as its archive, and its row. Never through the trainings API."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from shared.models import ModelVersion
from shared.models.base import utcnow
from shared.registry import repository
from shared.registry.checkpoints import checkpoint_key, store_checkpoint
from shared.storage import Storage
from tests.model_factory import LABELS

METRICS = {"uar": 0.61, "macro_f1": 0.58, "confusion": {"labels": list(LABELS), "matrix": [[1, 0], [0, 1]]}}


def register_version(
    session: Session,
    storage: Storage,
    checkpoint: Path,
    *,
    owner_key_id: uuid.UUID | None = None,
    name: str = "tiny-custom",
    promoted: bool = False,
    **facts: Any,
) -> ModelVersion:
    """Stores ``checkpoint`` under a new version's key and records the version in ``session`` (flushed)."""
    version_id = uuid.uuid4()
    blob = store_checkpoint(storage, checkpoint_key(version_id), checkpoint)
    return repository.add(
        session,
        ModelVersion(
            id=version_id,
            owner_key_id=owner_key_id,
            name=name,
            revision=blob.sha256,
            labels=list(LABELS),
            metrics=METRICS,
            training_data={"dataset": "tones", "clips": 20, "speakers": 4, "labels": list(LABELS)},
            storage_key=blob.key,
            size_bytes=blob.size,
            promoted_at=utcnow() if promoted else None,
            **facts,
        ),
    )
