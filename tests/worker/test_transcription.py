"""A transcript through the real speech-recognition pipeline: a tiny Whisper built from a config (its
tokenizer and feature extractor too, offline), loaded from its folder as a real checkpoint would be.
Its text is gibberish; the timestamps, their clamping and the emotion of each stretch are real."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from shared.audio import decode_to_mono
from shared.errors import EmoQError
from shared.schemas.results import Segment, Utterance
from tests.model_factory import save_tiny_checkpoint, save_tiny_whisper_asr
from worker.inference import AudioClassifier
from worker.transcription import Transcriber, add_transcript

SECONDS = 12.0


@pytest.fixture(scope="module")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> Transcriber:
    folder = save_tiny_whisper_asr(tmp_path_factory.mktemp("whisper"))
    return Transcriber.load(str(folder), revision=None, device="cpu", chunk_seconds=30.0)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> AudioClassifier:
    folder = save_tiny_checkpoint(tmp_path_factory.mktemp("emotion"))
    # Overlapping windows: an utterance's weights are not simply the windows' lengths.
    return AudioClassifier.load(str(folder), device="cpu", window_seconds=1.0, hop_seconds=0.5)


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """Noise whose loudness changes each second, at 8 kHz so the recogniser's 16 kHz is a resample."""
    rate = 8000
    rng = np.random.default_rng(3)
    loudness = np.repeat(rng.uniform(0.05, 0.5, int(SECONDS)), rate)
    path = tmp_path / "speech.wav"
    sf.write(path, (rng.normal(0, 1, len(loudness)) * loudness).astype(np.float32), rate)
    return path


def expected_scores(utterance: Utterance, windows: list[Segment]) -> dict[str, float]:
    """The overlap-weighted mean, computed apart from the code under test."""
    totals: dict[str, float] = {}
    weight = 0.0
    for window in windows:
        if not window.scores:
            continue
        if utterance.end_s > utterance.start_s:
            share = min(utterance.end_s, window.end_s) - max(utterance.start_s, window.start_s)
        else:
            share = 1.0 if window.start_s <= utterance.start_s <= window.end_s else 0.0
        if share <= 0:
            continue
        weight += share
        for score in window.scores:
            totals[score.label] = totals.get(score.label, 0.0) + share * score.score
    return {label: total / weight for label, total in totals.items()}


def test_utterances_lie_in_the_audio_in_order_with_the_overlap_weighted_emotion(
    transcriber: Transcriber, classifier: AudioClassifier, recording: Path
) -> None:
    audio = decode_to_mono(recording, target_rate=classifier.sampling_rate, max_seconds=60.0)
    classification = classifier.classify(audio)

    result = add_transcript(classification, recording, transcriber, max_seconds=60.0)

    utterances = result.utterances
    assert utterances, "the tiny Whisper wrote nothing"
    assert any(u.end_s > u.start_s for u in utterances)
    duration = classification.segments[-1].end_s
    assert duration == pytest.approx(SECONDS, abs=0.01)
    assert all(0.0 <= u.start_s <= u.end_s <= duration for u in utterances)
    assert [u.start_s for u in utterances] == sorted(u.start_s for u in utterances)
    for utterance in utterances:
        assert utterance.text and utterance.text == utterance.text.strip()
        assert utterance.scores is not None and utterance.dominant == utterance.scores[0]
        assert sum(s.score for s in utterance.scores) == pytest.approx(1.0)
        got = {s.label: s.score for s in utterance.scores}
        assert got == pytest.approx(expected_scores(utterance, classification.segments))


def test_a_recogniser_that_fails_fails_with_a_stable_code(
    transcriber: Transcriber, classifier: AudioClassifier, recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    classification = classifier.classify(np.zeros(16000, dtype=np.float32) + 0.1)

    def broken(*_: object, **__: object) -> dict:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(transcriber, "recogniser", broken)
    with pytest.raises(EmoQError) as failure:
        add_transcript(classification, recording, transcriber, max_seconds=60.0)
    assert failure.value.code == "transcription_failed"
