"""The public contract for datasets: what an upload reports and what a client reads back."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from shared.models import Dataset, DatasetClip, DatasetStatus


class RefusedFile(BaseModel):
    path: str = Field(description="As named in the manifest or the upload")
    code: str = Field(description="Why, as a stable code: missing_file, undecodable_audio, too_short, …")
    message: str


class LabelCount(BaseModel):
    label: str
    files: int
    duration_s: float = Field(description="Total of the files whose container states a duration")


class SpeakerCount(BaseModel):
    speaker: str
    files: int


class DatasetFile(BaseModel):
    path: str = Field(description="As in the manifest, normalised")
    label: str
    speaker: str | None
    duration_s: float | None = Field(description="From the container header; null when it does not say")
    bytes: int
    sha256: str


class DatasetSummary(BaseModel):
    id: uuid.UUID
    name: str
    status: DatasetStatus
    created_at: datetime
    file_count: int = Field(description="Files accepted")
    label_count: int
    speaker_count: int
    duration_s: float = Field(description="Total of the files whose container states a duration")
    bytes: int
    refused_count: int = Field(description="Files of the upload that were refused")

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> DatasetSummary:
        return cls(
            id=dataset.id,
            name=dataset.name,
            status=DatasetStatus(dataset.status),
            created_at=dataset.created_at,
            file_count=dataset.clip_count,
            label_count=dataset.label_count,
            speaker_count=dataset.speaker_count,
            duration_s=dataset.total_duration_s,
            bytes=dataset.total_bytes,
            refused_count=len(dataset.refused),
        )


class DatasetRead(DatasetSummary):
    """A dataset with its files; the upload's answer is the same, so it reports what was refused and why."""

    labels: list[LabelCount]
    speakers: list[SpeakerCount]
    files: list[DatasetFile]
    refused: list[RefusedFile]

    @classmethod
    def build(
        cls,
        dataset: Dataset,
        clips: list[DatasetClip],
        labels: list[tuple[str, int, float]],
        speakers: list[tuple[str, int]],
    ) -> DatasetRead:
        return cls(
            **DatasetSummary.from_dataset(dataset).model_dump(),
            labels=[LabelCount(label=label, files=n, duration_s=s) for label, n, s in labels],
            speakers=[SpeakerCount(speaker=speaker, files=n) for speaker, n in speakers],
            files=[
                DatasetFile(
                    path=clip.path,
                    label=clip.label,
                    speaker=clip.speaker,
                    duration_s=clip.duration_s,
                    bytes=clip.size_bytes,
                    sha256=clip.sha256,
                )
                for clip in clips
            ],
            refused=[RefusedFile(**refusal) for refusal in dataset.refused],
        )


class DatasetPage(BaseModel):
    items: list[DatasetSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")
