"""The public contract for batches."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.schemas.jobs import FEATURES_DESCRIPTION, MODEL_DESCRIPTION, JobRead


class BatchUrls(BaseModel):
    """A batch given as a JSON body: audio URLs the workers fetch."""

    audio_urls: list[str] = Field(min_length=1)
    webhook_url: str | None = None
    metadata: dict[str, Any] | None = None
    model: str | None = Field(default=None, description=MODEL_DESCRIPTION)
    features: bool = Field(default=False, description=FEATURES_DESCRIPTION)
    transcribe: bool = Field(default=False, description="Also transcribe every recording")


class BatchCreated(BaseModel):
    id: uuid.UUID
    job_ids: list[uuid.UUID] = Field(description="In submission order: files first, then URLs")


class BatchSummary(BaseModel):
    id: uuid.UUID
    status: Literal["running", "completed"]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    job_count: int
    counts: dict[str, int] = Field(description="Jobs per status")
    progress: float = Field(ge=0.0, le=1.0)
    webhook_url: str | None
    metadata: dict[str, Any] | None


class BatchRead(BatchSummary):
    jobs: list[JobRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page of jobs")
