from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow


class TrainingStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TRAINING_FINAL_STATUSES = frozenset(
    {TrainingStatus.SUCCEEDED, TrainingStatus.FAILED, TrainingStatus.CANCELLED}
)


class Training(Base):
    """One training run of a dataset, queued on the ``training`` queue and held under a lease like a job.

    It ends exactly once: the model version it makes is registered in the same transaction that marks it
    succeeded, so no half-trained or half-stored model is ever listed.
    """

    __tablename__ = "trainings"
    # The status of a training a worker holds under its lease (see shared/leases.py).
    HELD_STATUS: ClassVar[str] = TrainingStatus.RUNNING

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("api_keys.id"))
    # SET NULL: a dataset may be deleted after its trainings ended; the registered model keeps its facts.
    dataset_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("datasets.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=TrainingStatus.QUEUED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What it starts from: None for the shipped architecture from scratch, else a served model's name
    # (EMOQ_MODELS) or a registered model version's id, whose weights it fine-tunes.
    base_model: Mapped[str | None] = mapped_column(String(64))
    # The request's settings (epochs, batch size, learning rate, seed, held-out speakers...), as accepted.
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    # One entry per finished epoch: {"epoch", "loss", "validation_uar"}.
    epochs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # At the end, the held-out speakers' evaluation: UAR, macro-F1, per class, confusion matrix.
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_trainings_owner_key_id_created_at_id", "owner_key_id", "created_at", "id"),
        Index("ix_trainings_status_created_at", "status", "created_at"),
    )


class ModelVersion(Base):
    """A model a training made, its checkpoint stored as one archive in the storage backend."""

    __tablename__ = "model_versions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("api_keys.id"))
    training_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("trainings.id", ondelete="SET NULL"), unique=True
    )
    dataset_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("datasets.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(255))
    base_model: Mapped[str | None] = mapped_column(String(64))
    # The archive's SHA-256: what results record as the model's revision.
    revision: Mapped[str] = mapped_column(String(64))
    labels: Mapped[list[str]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The training data in brief: dataset name, clips, speakers, labels, held-out speakers.
    training_data: Mapped[dict[str, Any]] = mapped_column(JSON)
    storage_key: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When its owner made it their default; the latest promoted version is the owner's default.
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_model_versions_owner_key_id_created_at_id", "owner_key_id", "created_at", "id"),)
