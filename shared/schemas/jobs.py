"""The public contract for jobs: what clients send and what they read back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.models import Job, JobStatus
from shared.schemas.registry import ModelVersionSummary
from shared.schemas.results import JobResult, ModelRef

MODEL_DESCRIPTION = (
    "A model's name, or the id of one of your model versions, from GET /v1/models; default: your promoted"
    " version, else the first"
)
FEATURES_DESCRIPTION = (
    "Also measure acoustic features: pitch, loudness, speaking rate, spectral centroid, MFCCs"
)


class JobFromUrl(BaseModel):
    """A job given as a JSON body: the worker fetches the audio from ``audio_url``."""

    audio_url: str = Field(max_length=2048)
    metadata: dict[str, Any] | None = None
    webhook_url: str | None = None
    model: str | None = Field(default=None, description=MODEL_DESCRIPTION)
    features: bool = Field(default=False, description=FEATURES_DESCRIPTION)
    transcribe: bool = Field(default=False, description="Also transcribe the speech, with its emotion")


class InputInfo(BaseModel):
    url: str | None = Field(default=None, description="Where the worker fetches the audio, if given by URL")
    filename: str | None = Field(description="As given by the client; for display only")
    content_type: str | None
    bytes: int | None = Field(description="Known once the audio is stored")
    sha256: str | None
    container: str | None
    codec: str | None
    duration_s: float | None = Field(description="From the container header; measured by the worker")
    declared_duration_s: float | None = Field(
        default=None, description="What the header declared, even past the end of the file"
    )
    truncated: bool | None = Field(
        default=None,
        description="Decoding ended well short of the declared length (a file cut short, or a header that"
        " lies); null until the worker has decoded the audio",
    )
    sample_rate: int | None
    channels: int | None


class ErrorInfo(BaseModel):
    code: str
    message: str


class JobRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"description": "A speech-emotion analysis job"})

    id: uuid.UUID
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    progress: float = Field(ge=0.0, le=1.0)
    input: InputInfo
    metadata: dict[str, Any] | None
    webhook_url: str | None
    model: str | None = Field(
        default=None,
        description="The name of the served model whose workers run it; null on older jobs",
    )
    model_version_id: uuid.UUID | None = Field(
        default=None,
        description="The registered model version it runs on, if one was asked for or is the default",
    )
    features: bool = Field(description="Whether acoustic features were asked for")
    result: JobResult | None = None
    error: ErrorInfo | None = None

    @classmethod
    def from_job(cls, job: Job, *, with_segments: bool = True) -> JobRead:
        result = None
        if job.status == JobStatus.SUCCEEDED and job.result is not None:
            row = job.result
            result = JobResult(
                model=ModelRef(
                    name=row.model_name,
                    id=row.model_id,
                    revision=row.model_revision,
                    precision=row.model_precision,
                ),
                dominant={"label": row.dominant_label, "score": row.dominant_score},
                scores=row.scores,
                segments=row.segments if with_segments else [],
                confidence=row.confidence,
                low_confidence=row.low_confidence,
                episodes=row.episodes,
                affect=row.affect,
                features=row.features,
                utterances=row.utterances,
            )
        return cls(
            id=job.id,
            status=JobStatus(job.status),
            created_at=job.created_at,
            updated_at=job.updated_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            attempts=job.attempts,
            progress=job.progress,
            input=InputInfo(
                url=job.audio_url,
                filename=job.filename,
                content_type=job.content_type,
                bytes=job.size_bytes,
                sha256=job.sha256,
                container=job.container,
                codec=job.codec,
                duration_s=job.duration_s,
                declared_duration_s=job.declared_duration_s,
                truncated=job.truncated,
                sample_rate=job.sample_rate,
                channels=job.channels,
            ),
            metadata=job.client_metadata,
            webhook_url=job.webhook_url,
            model=job.model,
            model_version_id=job.model_version_id,
            features=job.with_features,
            result=result,
            error=ErrorInfo(code=job.error_code, message=job.error_message or "") if job.error_code else None,
        )


class JobPage(BaseModel):
    items: list[JobRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class LabelDisplay(BaseModel):
    """How a label is shown: defaults for common emotions, overridable in the model's config."""

    color: str = Field(description="A CSS colour, #rrggbb")
    emoji: str | None = None
    mood: str | None = Field(default=None, description="A music mood that goes with the emotion")


class ModelInfo(BaseModel):
    name: str = Field(description="What `model=` at submit asks for")
    default: bool = Field(description="Used when a submission names no model")
    served: bool = Field(description="A worker serving it has started (and reported what it loaded)")
    id: str | None = None
    revision: str | None = None
    precision: str | None = None
    labels: list[str] = Field(default_factory=list)
    display: dict[str, LabelDisplay] = Field(
        default_factory=dict, description="Per label: colour, emoji and music mood"
    )
    sample_rate: int | None = None
    window_seconds: float | None = None
    hop_seconds: float | None = None
    device: str | None = None
    last_seen_at: datetime | None = None


class ModelList(BaseModel):
    models: list[ModelInfo]
    versions: list[ModelVersionSummary] = Field(
        default_factory=list, description="Your registered model versions (custom models), newest first"
    )
    transcription: bool = Field(
        default=False,
        description="Whether jobs may ask for a transcript (transcribe=true): EMOQ_ASR_MODEL is set",
    )
