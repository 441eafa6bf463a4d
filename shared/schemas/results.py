"""What a finished analysis looks like: built by the worker, served by the API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Score(BaseModel):
    label: str
    score: float = Field(ge=0.0, le=1.0)


class Segment(BaseModel):
    """One analysis window of a recording. Near-silent windows are marked and carry no scores."""

    start_s: float
    end_s: float
    silent: bool = False
    dominant: Score | None = None
    scores: list[Score] | None = None


class Classification(BaseModel):
    """Scores sorted from most to least likely, summing to 1; ``segments`` is the timeline."""

    dominant: Score
    scores: list[Score]
    segments: list[Segment] = Field(default_factory=list)


class ModelRef(BaseModel):
    id: str
    revision: str
    precision: str = Field(default="fp32", description="fp32, bf16, fp16 or int8: the arithmetic it ran at")


class JobResult(Classification):
    model: ModelRef


def sorted_scores(labels: list[str], probabilities: list[float]) -> list[Score]:
    pairs = sorted(zip(labels, probabilities, strict=True), key=lambda pair: pair[1], reverse=True)
    return [Score(label=label, score=float(p)) for label, p in pairs]
