"""The public contract for registered model versions: what GET /v1/models lists and a version reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.models import ModelVersion


class ModelVersionSummary(BaseModel):
    id: uuid.UUID = Field(description="What `model=` at submit asks for")
    name: str
    default: bool = Field(description="Your promoted version: used when a submission names no model")
    labels: list[str]
    metrics: dict[str, float] = Field(
        description="The held-out evaluation's single figures (uar, macro_f1, …); the full one in GET /v1/models/{id}"
    )
    base_model: str | None = Field(description="What it was fine-tuned from; null: trained from scratch")
    training_id: uuid.UUID | None
    dataset_id: uuid.UUID | None
    revision: str = Field(description="The SHA-256 of its checkpoint archive, as results record it")
    size_bytes: int
    created_at: datetime
    promoted_at: datetime | None

    @classmethod
    def of(cls, version: ModelVersion, *, default: bool) -> ModelVersionSummary:
        return cls(
            id=version.id,
            name=version.name,
            default=default,
            labels=version.labels,
            metrics={
                name: float(value)
                for name, value in version.metrics.items()
                if isinstance(value, int | float) and not isinstance(value, bool)
            },
            base_model=version.base_model,
            training_id=version.training_id,
            dataset_id=version.dataset_id,
            revision=version.revision,
            size_bytes=version.size_bytes,
            created_at=version.created_at,
            promoted_at=version.promoted_at,
        )


class ModelVersionRead(ModelVersionSummary):
    """A version with its whole evaluation (per class, confusion matrix) and its training data in brief."""

    evaluation: dict[str, Any] = Field(description="The held-out evaluation as the training recorded it")
    training_data: dict[str, Any] = Field(
        description="Dataset name, clips, speakers, labels, held-out speakers"
    )

    @classmethod
    def build(cls, version: ModelVersion, *, default: bool) -> ModelVersionRead:
        return cls(
            **ModelVersionSummary.of(version, default=default).model_dump(),
            evaluation=version.metrics,
            training_data=version.training_data,
        )
