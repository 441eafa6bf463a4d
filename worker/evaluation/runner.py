"""Running every clip of a manifest through the worker's own path: stream_mono into classify."""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass

import numpy as np

from shared.audio import stream_mono
from shared.errors import AudioError
from worker.evaluation.metrics import Metrics, compute_metrics
from worker.evaluation.scope import LabelScope
from worker.inference import AudioClassifier
from worker.training.manifest import Clip


@dataclass(frozen=True)
class ClipOutcome:
    clip: Clip
    true_label: str  # in the model's vocabulary
    predicted_label: str  # best among the scored labels
    audio_seconds: float


@dataclass(frozen=True)
class Evaluation:
    metrics: Metrics
    outcomes: list[ClipOutcome]
    failures: list[tuple[Clip, str]]  # clips the service would fail, with the error code
    audio_seconds: float
    wall_seconds: float

    @property
    def audio_seconds_per_second(self) -> float:
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0


def best_label(scores: Iterable[object], allowed: list[str]) -> str:
    """The highest-scoring label among ``allowed``; scores arrive sorted high to low."""
    return next(score.label for score in scores if score.label in allowed)


def evaluate(
    classifier: AudioClassifier, clips: list[Clip], scope: LabelScope, *, max_seconds: float, progress: bool
) -> Evaluation:
    from tqdm.auto import tqdm

    outcomes: list[ClipOutcome] = []
    failures: list[tuple[Clip, str]] = []
    audio_seconds = 0.0
    started = time.perf_counter()
    for clip in tqdm(clips, desc="evaluate", unit="clip", disable=not progress, dynamic_ncols=True):
        try:
            with closing(
                stream_mono(clip.path, target_rate=classifier.sampling_rate, max_seconds=max_seconds)
            ) as blocks:
                result = classifier.classify(blocks)
        except AudioError as error:
            # Undecodable or silent throughout: the service fails such a job, so it has no answer to score.
            failures.append((clip, error.code))
            continue
        seconds = result.segments[-1].end_s
        audio_seconds += seconds
        outcomes.append(
            ClipOutcome(clip, scope.mapping[clip.label], best_label(result.scores, scope.labels), seconds)
        )
    wall_seconds = time.perf_counter() - started
    index = {label: i for i, label in enumerate(scope.labels)}
    metrics = compute_metrics(
        np.array([index[o.true_label] for o in outcomes], dtype=np.int64),
        np.array([index[o.predicted_label] for o in outcomes], dtype=np.int64),
        len(scope.labels),
    )
    return Evaluation(metrics, outcomes, failures, audio_seconds, wall_seconds)
