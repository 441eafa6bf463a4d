"""What a finished analysis looks like: built by the worker, served by the API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Score(BaseModel):
    label: str
    score: float = Field(ge=0.0, le=1.0)


class Confidence(BaseModel):
    """How sure the model is: the dominant score and how far ahead of the runner-up it is."""

    score: float = Field(ge=0.0, le=1.0, description="The dominant label's score")
    margin: float = Field(ge=0.0, le=1.0, description="The dominant score minus the second one")


class Segment(BaseModel):
    """One analysis window of a recording. Near-silent windows are marked and carry no scores."""

    start_s: float
    end_s: float
    silent: bool = False
    dominant: Score | None = None
    scores: list[Score] | None = None
    confidence: Confidence | None = None
    low_confidence: bool | None = None


class Episode(BaseModel):
    """A stretch of consecutive windows with one dominant emotion; ``scores`` are their mean."""

    start_s: float
    end_s: float
    dominant: Score = Field(description="The episode's emotion and its mean score over the episode")
    scores: list[Score]
    windows: int = Field(ge=1, description="How many analysis windows the episode merges")


class Utterance(BaseModel):
    """A stretch of speech as the speech recogniser timed it, with the emotion of the windows it
    overlaps (their scores weighted by overlap); no scores where it overlaps only silent windows."""

    start_s: float = Field(ge=0.0)
    end_s: float = Field(ge=0.0)
    text: str
    dominant: Score | None = None
    scores: list[Score] | None = None


class Affect(BaseModel):
    """Arousal and valence, each in [-1, 1], derived from the class probabilities through each label's
    place on the circumplex (never measured by a regression head)."""

    arousal: float = Field(ge=-1.0, le=1.0)
    valence: float = Field(ge=-1.0, le=1.0)
    derived: Literal[True] = True
    coverage: float = Field(ge=0.0, le=1.0, description="The probability mass of labels with a placement")


class Classification(BaseModel):
    """Scores sorted from most to least likely, summing to 1; ``segments`` is the timeline."""

    dominant: Score
    scores: list[Score]
    segments: list[Segment] = Field(default_factory=list)
    confidence: Confidence | None = None
    low_confidence: bool | None = None
    episodes: list[Episode] | None = None
    affect: Affect | None = None
    utterances: list[Utterance] | None = Field(
        default=None, description="What was said, with its emotion; only for jobs sent with transcribe=true"
    )


class ModelRef(BaseModel):
    id: str
    revision: str
    precision: str = Field(default="fp32", description="fp32, bf16, fp16 or int8: the arithmetic it ran at")


class JobResult(Classification):
    model: ModelRef


def sorted_scores(labels: list[str], probabilities: list[float]) -> list[Score]:
    pairs = sorted(zip(labels, probabilities, strict=True), key=lambda pair: pair[1], reverse=True)
    return [Score(label=label, score=float(p)) for label, p in pairs]
