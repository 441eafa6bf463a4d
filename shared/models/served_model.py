from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow


class ServedModel(Base):
    """What a worker loaded under which name, recorded at start-up, so the API can describe it without
    loading it."""

    __tablename__ = "served_models"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    revision: Mapped[str] = mapped_column(String(64), primary_key=True)
    labels: Mapped[list[str]] = mapped_column(JSON)
    sample_rate: Mapped[int] = mapped_column(Integer)
    window_seconds: Mapped[float] = mapped_column(Float)
    hop_seconds: Mapped[float] = mapped_column(Float)
    device: Mapped[str] = mapped_column(String(16))
    precision: Mapped[str] = mapped_column(String(8))
    # Per label: colour, emoji and mood (shared.catalog.display), as the model's folder sets them.
    display: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
