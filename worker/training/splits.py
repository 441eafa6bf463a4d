"""Splitting a corpus by speaker. Never by file: the same sentences recur across speakers and emotions,
so a file-level split would score the model on voices it was trained on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.errors import InvalidRequest
from worker.training.manifest import Clip, speakers_of


@dataclass(frozen=True)
class SpeakerSplit:
    train: list[Clip]
    validation: list[Clip]
    test: list[Clip]

    def speakers(self, part: str) -> list[str]:
        return speakers_of(getattr(self, part)) if getattr(self, part) else []


def split_by_speaker(
    clips: list[Clip],
    *,
    validation_speakers: list[str] | None,
    test_speakers: list[str],
    seed: int = 0,
    validation_fraction: float = 0.2,
) -> SpeakerSplit:
    """Assign every clip to train, validation or test by its speaker.

    ``validation_speakers=None`` draws about ``validation_fraction`` of the non-test speakers with
    ``seed``; an empty list means no validation (train on everything but the test speakers).
    """
    known = set(speakers_of(clips))
    unknown = sorted(set(test_speakers) - known) + sorted(set(validation_speakers or []) - known)
    if unknown:
        raise InvalidRequest(f"speaker(s) not in the manifest: {', '.join(unknown)}")
    overlap = set(test_speakers) & set(validation_speakers or [])
    if overlap:
        raise InvalidRequest(f"speaker(s) in both validation and test: {', '.join(sorted(overlap))}")
    remaining = [s for s in sorted(known) if s not in test_speakers]
    if validation_speakers is None:
        count = max(1, round(validation_fraction * len(remaining))) if len(remaining) > 1 else 0
        validation_speakers = sorted(np.random.default_rng(seed).permutation(remaining)[:count].tolist())
    train_speakers = set(remaining) - set(validation_speakers)
    if not train_speakers:
        raise InvalidRequest("no speakers left for training")
    return SpeakerSplit(
        train=[c for c in clips if c.speaker in train_speakers],
        validation=[c for c in clips if c.speaker in validation_speakers],
        test=[c for c in clips if c.speaker in test_speakers],
    )
