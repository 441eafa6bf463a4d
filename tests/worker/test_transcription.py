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
from tests.model_factory import save_tiny_checkpoint, save_tiny_whisper_asr
from tests.utterance_checks import assert_utterances_fit
from worker.inference import AudioClassifier
from worker.transcription import Transcriber, add_transcript

SECONDS = 12.0


@pytest.fixture(scope="module", params=[None, 1], ids=["pipeline-beams", "greedy"])
def transcriber(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Transcriber:
    """As EMOQ_ASR_BEAMS leaves it (the pipeline's beam search) and set to 1."""
    folder = save_tiny_whisper_asr(tmp_path_factory.mktemp("whisper"))
    return Transcriber.load(str(folder), revision=None, device="cpu", chunk_seconds=30.0, beams=request.param)


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


def test_utterances_lie_in_the_audio_in_order_with_the_overlap_weighted_emotion(
    transcriber: Transcriber, classifier: AudioClassifier, recording: Path
) -> None:
    audio = decode_to_mono(recording, target_rate=classifier.sampling_rate, max_seconds=60.0)
    classification = classifier.classify(audio)

    result = add_transcript(classification, recording, transcriber, max_seconds=60.0)

    assert result.utterances is not None
    assert any(u.end_s > u.start_s for u in result.utterances)
    assert classification.segments[-1].end_s == pytest.approx(SECONDS, abs=0.01)
    assert_utterances_fit(
        [u.model_dump() for u in result.utterances], [s.model_dump() for s in classification.segments]
    )


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
