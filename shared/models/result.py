from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from shared.models.job import Job


class JobResultRow(Base):
    """At most one result per job: the primary key is the job's id, so a second write cannot happen."""

    __tablename__ = "job_results"

    job_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The name it was served under (EMOQ_MODELS), as the worker that scored it wrote; None before names.
    model_name: Mapped[str | None] = mapped_column(String(32))
    model_id: Mapped[str] = mapped_column(String(255))
    model_revision: Mapped[str] = mapped_column(String(64))
    model_precision: Mapped[str] = mapped_column(String(8), server_default="fp32")
    dominant_label: Mapped[str] = mapped_column(String(64))
    dominant_score: Mapped[float] = mapped_column(Float)
    scores: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Null on results stored before the worker interpreted them (revision 0008).
    confidence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    low_confidence: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    episodes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    affect: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The whole recording's acoustic features when its job asked for them (revision 0009); each segment's
    # are inside ``segments``.
    features: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Only for jobs sent with transcribe=true (revision 0010); null otherwise.
    utterances: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)

    job: Mapped[Job] = relationship(back_populates="result")
