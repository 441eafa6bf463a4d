"""Input conditioning (silence trimming, peak normalisation): the span it keeps, and that segment times
stay in the original recording's time base through the real loader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shared.errors import AudioError
from tests.model_factory import save_tiny_checkpoint
from worker.conditioning import Conditioning, speech_span
from worker.inference import AudioClassifier

RATE = 16000


def speechlike(seconds: float, seed: int = 0, level: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    carrier = np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return (level * carrier + level / 6 * rng.standard_normal(t.size)).astype(np.float32)


def padded(lead_s: float, speech_s: float, tail_s: float, level: float = 0.3) -> np.ndarray:
    """Speech between stretches of faint noise (-80 dBFS), as a recording with silence at both ends."""
    rng = np.random.default_rng(1)
    quiet = lambda s: (1e-4 * rng.standard_normal(round(s * RATE))).astype(np.float32)  # noqa: E731
    return np.concatenate([quiet(lead_s), speechlike(speech_s, level=level), quiet(tail_s)])


def with_preprocessing(checkpoint: Path, spec: dict[str, object]) -> Path:
    config = json.loads((checkpoint / "config.json").read_text())
    config["emoq_preprocessing"] = spec
    (checkpoint / "config.json").write_text(json.dumps(config))
    return checkpoint


def test_speech_span_finds_the_speech_between_silences() -> None:
    start, end = speech_span(padded(1.0, 2.0, 1.5), RATE, top_db=30)

    # Frames are 128 ms, centred, every 32 ms: the edges land within a frame of the truth.
    assert start == pytest.approx(1.0 * RATE, abs=0.128 * RATE)
    assert end == pytest.approx(3.0 * RATE, abs=0.128 * RATE)


def test_all_silent_audio_has_an_empty_span() -> None:
    assert speech_span(np.zeros(RATE, dtype=np.float32), RATE, top_db=30) == (0, 0)


def test_peak_normalisation_scales_after_trimming() -> None:
    audio = padded(0.5, 1.0, 0.5, level=0.02)

    kept, start = Conditioning(trim_db=30, normalize="peak").apply(audio, RATE)

    assert np.max(np.abs(kept)) == pytest.approx(1.0)
    assert start == speech_span(audio, RATE, 30)[0]
    assert len(kept) < len(audio)


def test_a_checkpoint_without_the_key_is_left_as_it_was() -> None:
    class Config:
        pass

    assert Conditioning.from_config(Config()) is None
    with pytest.raises(ValueError, match="unknown"):
        Conditioning.from_config(type("C", (), {"emoq_preprocessing": {"trim": 30}})())


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    return save_tiny_checkpoint(tmp_path / "plain")


@pytest.fixture
def trimming(tmp_path: Path) -> Path:
    return with_preprocessing(
        save_tiny_checkpoint(tmp_path / "trimming"), {"trim_db": 30, "normalize": "peak"}
    )


def test_segments_keep_the_original_time_base(plain: Path, trimming: Path) -> None:
    audio = padded(1.3, 3.0, 1.7)
    conditioned = AudioClassifier.load(str(trimming), device="cpu", window_seconds=1.5, hop_seconds=1.0)
    reference = AudioClassifier.load(str(plain), device="cpu", window_seconds=1.5, hop_seconds=1.0)
    kept, start = conditioned.conditioning.apply(audio, RATE)

    result = conditioned.classify(audio)
    expected = reference.classify(kept)  # the same network on the audio trimming keeps, timed from 0

    offset = start / RATE
    assert offset == pytest.approx(1.3, abs=0.13)
    # The trimmed lead and tail are silent segments, so the timeline still covers the whole recording.
    first, *scored, last = result.segments
    assert (first.start_s, first.end_s, first.silent) == (0.0, offset, True)
    assert last.silent and last.end_s == pytest.approx(len(audio) / RATE)
    assert [t for s in scored for t in (s.start_s, s.end_s)] == pytest.approx(
        [t + offset for s in expected.segments for t in (s.start_s, s.end_s)]
    )
    assert [s.scores for s in scored] == [s.scores for s in expected.segments]
    assert result.scores == expected.scores


def test_a_stream_of_blocks_is_conditioned_like_the_whole_recording(trimming: Path) -> None:
    audio = padded(1.0, 2.5, 1.0)
    classifier = AudioClassifier.load(str(trimming), device="cpu")

    whole = classifier.classify(audio)
    streamed = classifier.classify(iter(np.array_split(audio, 7)), expected_samples=len(audio))

    assert streamed == whole


def test_quiet_speech_is_scored_once_normalised(plain: Path, trimming: Path) -> None:
    # -50 dBFS speech would be skipped as silence by a checkpoint that does not normalise.
    audio = padded(0.5, 2.0, 0.5, level=0.003)
    conditioned = AudioClassifier.load(str(trimming), device="cpu")
    untouched = AudioClassifier.load(str(plain), device="cpu")

    assert any(s.scores for s in conditioned.classify(audio).segments)
    with pytest.raises(AudioError) as error:
        untouched.classify(audio)
    assert error.value.code == "no_speech"
