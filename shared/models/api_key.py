from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow

ALL_SCOPES = "jobs:read jobs:write admin"


class ApiKey(Base):
    """A client's credential. The key itself is shown once, when it is created; only its SHA-256 is kept,
    so a copy of the database lets nobody in."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    # The key's first characters: enough to tell keys apart in a list, far too few to guess the rest.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written by every submission: the write is also the lock that makes a key's limits exact.
    last_submission_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Space-separated scopes (shared.auth.scopes); keys made before scopes existed keep every one.
    scopes: Mapped[str] = mapped_column(String(100), default=ALL_SCOPES, server_default=ALL_SCOPES)
    # The key's webhook signing secret, sealed (shared.sealing): it must be read back to sign. The
    # previous one still signs, beside it, until the rotation's grace period ends.
    webhook_secret: Mapped[str | None] = mapped_column(Text)
    previous_webhook_secret: Mapped[str | None] = mapped_column(Text)
    webhook_secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
