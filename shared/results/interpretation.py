"""A classification read for people: confidence, episodes and a derived arousal/valence, added once
when the worker finishes a job, from settings and the model's own configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.config import Settings
from shared.results.affect import Placements, derive_affect, placements_for
from shared.results.confidence import is_low, measure
from shared.results.episodes import merge_episodes
from shared.schemas.results import Classification, Segment

# Below this dominant score a result is flagged, unless the settings or the model's config say otherwise.
DEFAULT_LOW_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Interpretation:
    low_confidence: float
    episode_min_seconds: float
    episode_switch_margin: float
    places: Placements

    @classmethod
    def for_model(
        cls,
        labels: list[str],
        model_config: Mapping[str, Any],
        *,
        low_confidence: float | None,
        episode_min_seconds: float,
        episode_switch_margin: float,
    ) -> Interpretation:
        """The threshold comes from ``EMOQ_LOW_CONFIDENCE`` if set, else from the model's calibration
        (``emoq_low_confidence`` in its config), else ``DEFAULT_LOW_CONFIDENCE``; the circumplex
        placements from ``emoq_circumplex`` in its config over the defaults."""
        calibrated = model_config.get("emoq_low_confidence")
        threshold = low_confidence if low_confidence is not None else calibrated
        if threshold is None:
            threshold = DEFAULT_LOW_CONFIDENCE
        return cls(
            low_confidence=float(threshold),
            episode_min_seconds=episode_min_seconds,
            episode_switch_margin=episode_switch_margin,
            places=placements_for(labels, model_config.get("emoq_circumplex")),
        )

    @classmethod
    def from_settings(
        cls, labels: list[str], model_config: Mapping[str, Any], settings: Settings
    ) -> Interpretation:
        return cls.for_model(
            labels,
            model_config,
            low_confidence=settings.low_confidence,
            episode_min_seconds=settings.episode_min_seconds,
            episode_switch_margin=settings.episode_switch_margin,
        )

    def apply(self, classification: Classification) -> Classification:
        confidence = measure(classification.scores)
        segments = [self._segment(segment) for segment in classification.segments]
        return classification.model_copy(
            update={
                "segments": segments,
                "confidence": confidence,
                "low_confidence": is_low(confidence, self.low_confidence),
                "episodes": merge_episodes(
                    segments,
                    min_seconds=self.episode_min_seconds,
                    switch_margin=self.episode_switch_margin,
                ),
                "affect": derive_affect(classification.scores, self.places),
            }
        )

    def _segment(self, segment: Segment) -> Segment:
        if not segment.scores:
            return segment
        confidence = measure(segment.scores)
        return segment.model_copy(
            update={"confidence": confidence, "low_confidence": is_low(confidence, self.low_confidence)}
        )
