"""The batcher on its own (no database): which windows share a pass, and that none is left waiting."""

from __future__ import annotations

from pathlib import Path

from tests.worker.test_inference import speechlike
from worker.batcher import Batcher, Stream
from worker.inference import AudioClassifier


def test_a_short_clip_is_not_kept_waiting_behind_a_long_recordings_windows(tiny_model: Path) -> None:
    classifier = AudioClassifier.load(str(tiny_model), device="cpu", window_seconds=1.0)
    batcher = Batcher(classifier.forward, batch_size=2)
    long = Stream(key="long", windows=classifier.preprocessor.windows([speechlike(30.0)]))
    short = Stream(key="short", windows=classifier.preprocessor.windows([speechlike(0.6, seed=1)]))
    batcher.add(long)
    batcher.add(short)

    steps_until_short_ended = next(n for n in range(1, 40) if short in batcher.step())

    assert steps_until_short_ended <= 2
    assert "long" in batcher.streams, "the long one is still running"
    while batcher.streams:
        batcher.step()
    assert len(long.probabilities) == 30 and len(short.probabilities) == 1
