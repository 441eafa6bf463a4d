from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from shared.models.result import JobResultRow


class JobStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class Job(Base):
    __tablename__ = "jobs"

    # The status of a job a worker holds under its lease (see shared/leases.py).
    HELD_STATUS: ClassVar[str] = JobStatus.PROCESSING

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)

    # The key that submitted it; None when auth is disabled. Every client read is filtered by it.
    owner_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("api_keys.id"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("batches.id", ondelete="CASCADE"))
    position: Mapped[int | None] = mapped_column(Integer)

    # What the client sent. The filename is kept for display only and never used as a path. Audio given
    # by URL has no size or hash until the worker has downloaded it.
    audio_url: Mapped[str | None] = mapped_column(String(2048))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(127))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    container: Mapped[str | None] = mapped_column(String(32))
    codec: Mapped[str | None] = mapped_column(String(32))
    duration_s: Mapped[float | None] = mapped_column(Float)
    # What the header claimed; `truncated` is set once the worker has decoded the audio and found it
    # well short of that (see shared.audio.falls_short).
    declared_duration_s: Mapped[float | None] = mapped_column(Float)
    truncated: Mapped[bool | None] = mapped_column(Boolean)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    client_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    # Asked for acoustic features (pitch, loudness, ...) besides the emotions.
    with_features: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Asked for a transcript with emotions (transcribe=true): the worker runs the speech recogniser too.
    transcribe: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Unique per owner, see the constraints below.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))

    # The name (EMOQ_MODELS) of the model asked for; None on jobs older than named models, which the
    # default model serves.
    model: Mapped[str | None] = mapped_column(String(32))
    # A registered model version (a custom model) the job runs on instead; its queue is then the one of
    # ``model``, the served model whose workers load versions on demand. SET NULL: a version may be deleted
    # once no unfinished job needs it, and the result keeps its identity.
    model_version_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("model_versions.id", ondelete="SET NULL")
    )

    # Where the audio lives while it is needed; cleared once it is deleted.
    audio_key: Mapped[str | None] = mapped_column(String(255))

    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)

    # The lease: which worker attempt owns the job and until when. Another delivery of the same task
    # may take the job over only once the lease has expired.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    result: Mapped[JobResultRow | None] = relationship(
        back_populates="job", uselist=False, cascade="all, delete-orphan", lazy="raise"
    )

    __table_args__ = (
        Index("ix_jobs_created_at_id", "created_at", "id"),
        Index("ix_jobs_status_created_at", "status", "created_at"),
        Index("ix_jobs_batch_id_position", "batch_id", "position"),
        # Retention finds finished jobs by when they ended.
        Index("ix_jobs_status_finished_at", "status", "finished_at"),
        # A key's list, newest first, and its submissions in the last minute (the rate limit).
        Index("ix_jobs_owner_key_id_created_at_id", "owner_key_id", "created_at", "id"),
        # A key's queued and processing jobs (the quota).
        Index("ix_jobs_owner_key_id_status", "owner_key_id", "status"),
        # Each key has its own idempotency keys. NULLs are distinct in a unique constraint, so jobs
        # without an owner (auth disabled) get a partial unique index of their own.
        UniqueConstraint("owner_key_id", "idempotency_key", name="uq_jobs_owner_key_id_idempotency_key"),
        Index(
            "uq_jobs_idempotency_key_without_owner",
            "idempotency_key",
            unique=True,
            postgresql_where=text("owner_key_id IS NULL"),
            sqlite_where=text("owner_key_id IS NULL"),
        ),
    )
