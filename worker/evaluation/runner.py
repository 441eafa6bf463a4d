"""Running every clip of a manifest through the worker's own path: stream_mono into classify."""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass

import numpy as np

from shared.audio import stream_mono
from shared.config import get_settings
from shared.errors import AudioError
from shared.schemas.results import Classification
from worker.calibration import ClipWindows, apply_temperature, expected_calibration_error
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
    windows: ClipWindows  # the scored windows at temperature 1, for calibration
    scores: dict[str, float]  # the clip's scores as a job on this model reports them


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

    def per_speaker(self, labels: list[str]) -> dict[str, Metrics]:
        """Metrics of each speaker's clips on their own (empty when the manifest names no speakers)."""
        speakers = sorted({o.clip.speaker for o in self.outcomes if o.clip.speaker})
        return {
            speaker: _metrics([o for o in self.outcomes if o.clip.speaker == speaker], labels)
            for speaker in speakers
        }

    def calibration_error(self, model_labels: list[str], scored: list[str], temperature: float) -> float:
        """15-bin ECE of the reported scores at ``temperature``, over the scored labels (renormalised
        when the evaluation is restricted to some of the model's labels)."""
        columns = [model_labels.index(label) for label in scored]
        rows = np.stack([o.windows.at_temperature(temperature)[columns] for o in self.outcomes])
        true = np.array([scored.index(o.true_label) for o in self.outcomes])
        return expected_calibration_error(rows / rows.sum(axis=1, keepdims=True), true)


def load_classifier(model: str, *, device: str | None = None, revision: str | None = None) -> AudioClassifier:
    """The classifier a worker builds for ``model`` under the current settings, so scores match the service."""
    settings = get_settings()
    return AudioClassifier.load(
        model,
        device=device or settings.device,
        revision=revision,
        batch_size=settings.inference_batch_size,
        window_seconds=settings.window_seconds,
        hop_seconds=settings.hop_seconds,
        silence_dbfs=settings.silence_dbfs,
    )


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
            ClipOutcome(
                clip,
                scope.mapping[clip.label],
                best_label(result.scores, scope.labels),
                seconds,
                scored_windows(result, classifier.labels, classifier.temperature),
                {score.label: score.score for score in result.scores},
            )
        )
    wall_seconds = time.perf_counter() - started
    return Evaluation(_metrics(outcomes, scope.labels), outcomes, failures, audio_seconds, wall_seconds)


def scored_windows(result: Classification, labels: list[str], temperature: float) -> ClipWindows:
    """A result's scored windows with the temperature taken back out (a temperature of 1/T undoes T)."""
    scored = [segment for segment in result.segments if segment.scores]
    rows = np.array(
        [[{s.label: s.score for s in segment.scores}[label] for label in labels] for segment in scored]
    )
    durations = np.array([segment.end_s - segment.start_s for segment in scored])
    return ClipWindows(apply_temperature(rows, 1.0 / temperature), durations)


def _metrics(outcomes: list[ClipOutcome], labels: list[str]) -> Metrics:
    index = {label: i for i, label in enumerate(labels)}
    return compute_metrics(
        np.array([index[o.true_label] for o in outcomes], dtype=np.int64),
        np.array([index[o.predicted_label] for o in outcomes], dtype=np.int64),
        len(labels),
    )
