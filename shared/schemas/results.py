"""What a finished analysis looks like: built by the worker, served by the API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# How many MFCCs a result's features average (c0 to c12); fixed, so the CSV's columns are too.
MFCC_COEFFICIENTS = 13


class Score(BaseModel):
    label: str
    score: float = Field(ge=0.0, le=1.0)


class Confidence(BaseModel):
    """How sure the model is: the dominant score and how far ahead of the runner-up it is."""

    score: float = Field(ge=0.0, le=1.0, description="The dominant label's score")
    margin: float = Field(ge=0.0, le=1.0, description="The dominant score minus the second one")


class AcousticFeatures(BaseModel):
    """How the voice sounds over a span (the whole recording, or one segment), measured from the decoded
    audio as recorded, every 10 ms; see docs/results.md for each measure's exact definition."""

    pitch_median_hz: float | None = Field(
        default=None, description="Median f0 of the voiced frames; null if none"
    )
    pitch_low_hz: float | None = Field(default=None, description="5th percentile of the voiced frames' f0")
    pitch_high_hz: float | None = Field(default=None, description="95th percentile of the voiced frames' f0")
    pitch_range_st: float | None = Field(
        default=None, description="From pitch_low_hz to pitch_high_hz, in semitones"
    )
    voiced_share: float = Field(ge=0.0, le=1.0, description="The share of 10 ms frames that are voiced")
    loudness_dbfs: float | None = Field(default=None, description="RMS level of the span, dB re full scale")
    loudness_range_db: float | None = Field(
        default=None,
        description="10th to 95th percentile of the 40 ms frame levels above the silence threshold",
    )
    syllable_rate: float | None = Field(
        default=None, description="Syllable nuclei per second, a speaking-rate proxy"
    )
    spectral_centroid_hz: float | None = Field(
        default=None, description="Mean spectral centroid of the non-silent frames"
    )
    mfcc: list[float] | None = Field(
        default=None, description=f"Means of MFCCs c0 to c{MFCC_COEFFICIENTS - 1} over the non-silent frames"
    )


class Segment(BaseModel):
    """One analysis window of a recording. Near-silent windows are marked and carry no scores."""

    start_s: float
    end_s: float
    silent: bool = False
    dominant: Score | None = None
    scores: list[Score] | None = None
    confidence: Confidence | None = None
    low_confidence: bool | None = None
    features: AcousticFeatures | None = None


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
    features: AcousticFeatures | None = Field(
        default=None, description="Acoustic features of the whole recording; only when asked for"
    )
    utterances: list[Utterance] | None = Field(
        default=None, description="What was said, with its emotion; only for jobs sent with transcribe=true"
    )


class ModelRef(BaseModel):
    name: str | None = Field(
        default=None, description="The name it is served under (`model=`); null on older results"
    )
    id: str
    revision: str
    precision: str = Field(default="fp32", description="fp32, bf16, fp16 or int8: the arithmetic it ran at")


class JobResult(Classification):
    model: ModelRef


def sorted_scores(labels: list[str], probabilities: list[float]) -> list[Score]:
    pairs = sorted(zip(labels, probabilities, strict=True), key=lambda pair: pair[1], reverse=True)
    return [Score(label=label, score=float(p)) for label, p in pairs]
