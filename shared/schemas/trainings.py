"""The public contract for trainings: what a client asks for and what it reads back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.models import Training, TrainingStatus
from shared.schemas.jobs import ErrorInfo
from shared.trainings.keys import version_id_for


class TrainingCreate(BaseModel):
    dataset_id: uuid.UUID
    name: str | None = Field(default=None, max_length=255, description="Of the model; default: the dataset's")
    base_model: str | None = Field(
        default=None,
        max_length=64,
        description="Fine-tune this served model (a name of `GET /v1/models`) or one of your model versions"
        " (its id); default: the shipped architecture from scratch",
    )
    epochs: int | None = Field(default=None, ge=1, description="Default: EMOQ_TRAINING_DEFAULT_EPOCHS")
    batch_size: int = Field(default=32, ge=1, le=512)
    learning_rate: float = Field(default=1e-3, gt=0, le=1)
    seed: int = Field(default=0, ge=0)
    test_speakers: list[str] | None = Field(
        default=None,
        description="Speakers held out for the final evaluation; default: about 20% of the speakers, drawn"
        " with the seed",
    )
    webhook_url: str | None = Field(default=None, max_length=2048)


class EpochRead(BaseModel):
    epoch: int
    loss: float
    validation_uar: float | None = Field(description="Null when the dataset leaves no validation speaker")


class ClassScoresRead(BaseModel):
    precision: float
    recall: float
    f1: float
    support: int


class ConfusionRead(BaseModel):
    labels: list[str]
    matrix: list[list[int]] = Field(description="Rows: true label; columns: predicted label")


class EvaluationRead(BaseModel):
    """On the held-out speakers, computed as `emoq evaluate` computes it on the saved checkpoint."""

    n: int
    uar: float
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScoresRead]
    confusion: ConfusionRead
    speakers: list[str]


class TrainingRead(BaseModel):
    id: uuid.UUID
    status: TrainingStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    dataset_id: uuid.UUID | None = Field(description="Null once the dataset was deleted")
    base_model: str | None
    params: dict[str, Any] = Field(description="The settings as accepted, defaults filled in")
    progress: float
    attempts: int
    epochs: list[EpochRead]
    evaluation: EvaluationRead | None
    model_version_id: uuid.UUID | None = Field(description="The model version it registered, once succeeded")
    confusion_url: str | None
    error: ErrorInfo | None = None

    @classmethod
    def from_training(cls, training: Training) -> TrainingRead:
        succeeded = training.status == TrainingStatus.SUCCEEDED
        return cls(
            id=training.id,
            status=TrainingStatus(training.status),
            created_at=training.created_at,
            started_at=training.started_at,
            finished_at=training.finished_at,
            dataset_id=training.dataset_id,
            base_model=training.base_model,
            params=training.params,
            progress=training.progress,
            attempts=training.attempts,
            epochs=[EpochRead(**epoch) for epoch in training.epochs or []],
            evaluation=EvaluationRead(**training.evaluation) if training.evaluation else None,
            model_version_id=version_id_for(training.id) if succeeded else None,
            confusion_url=f"/v1/trainings/{training.id}/confusion.png" if training.evaluation else None,
            error=ErrorInfo(code=training.error_code, message=training.error_message or "")
            if training.error_code
            else None,
        )


class TrainingPage(BaseModel):
    items: list[TrainingRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")
