from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow

LABEL_LENGTH = 64
SPEAKER_LENGTH = 128
PATH_LENGTH = 512


class DatasetStatus(StrEnum):
    # Checked and stored in the request that uploaded it: a dataset the API answered for is usable.
    READY = "ready"


class Dataset(Base):
    """Labelled audio uploaded to train on. Never changed once stored, so its totals are kept here."""

    __tablename__ = "datasets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # The key that uploaded it; None when auth is disabled. Every client read is filtered by it.
    owner_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("api_keys.id"))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=DatasetStatus.READY)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    clip_count: Mapped[int] = mapped_column(Integer)
    label_count: Mapped[int] = mapped_column(Integer)
    speaker_count: Mapped[int] = mapped_column(Integer)
    total_duration_s: Mapped[float] = mapped_column(Float)
    total_bytes: Mapped[int] = mapped_column(BigInteger)
    # The files of the upload that were refused, each {"path", "code", "message"}: the upload's report.
    refused: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    __table_args__ = (Index("ix_datasets_owner_key_id_created_at_id", "owner_key_id", "created_at", "id"),)


class DatasetClip(Base):
    """One accepted file of a dataset, stored under its own key."""

    __tablename__ = "dataset_clips"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dataset_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("datasets.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(PATH_LENGTH))  # as in the manifest, normalised
    label: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    speaker: Mapped[str | None] = mapped_column(String(SPEAKER_LENGTH))
    # From the container header; None when it does not say (browser-recorded webm often doesn't).
    duration_s: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("dataset_id", "path", name="uq_dataset_clips_dataset_id_path"),)
