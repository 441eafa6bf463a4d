"""A transcript through the real speech-recognition pipeline: a tiny Whisper built from a config (its
tokenizer and feature extractor too, offline), loaded from its folder as a real checkpoint would be.
Its text is gibberish; the timestamps, their clamping and the emotion of each stretch are real."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from shared.audio import decode_to_mono
from shared.config import Settings
from shared.db import session_scope
from shared.errors import EmoQError
from shared.models import Job, JobStatus
from tests.model_factory import save_tiny_checkpoint, save_tiny_whisper_asr
from tests.utterance_checks import assert_utterances_fit
from tests.worker.test_batching import queue_job, run, stored
from tests.worker.test_inference import speechlike
from worker.inference import AudioClassifier
from worker.runtime import get_transcriber
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


@pytest.fixture
def asked_to_transcribe(embedded: Settings, tmp_path: Path) -> Callable[[np.ndarray], uuid.UUID]:
    """Queues a job on the embedded default, as the API does for transcribe=true."""

    def queue(clip: np.ndarray) -> uuid.UUID:
        job_id = queue_job(tmp_path, clip)
        with session_scope() as session:
            session.get(Job, job_id).transcribe = True
        return job_id

    return queue


def test_in_shared_passes_only_the_job_that_asked_is_transcribed(
    embedded: Settings,
    transcriber: Transcriber,
    asked_to_transcribe: Callable[[np.ndarray], uuid.UUID],
    tmp_path: Path,
) -> None:
    classifier = AudioClassifier.load(embedded.model, device="cpu", window_seconds=1.0)
    transcribed = asked_to_transcribe(speechlike(3.0, seed=1))
    plain = queue_job(tmp_path, speechlike(2.0, seed=2))

    run(plain, classifier, embedded, transcriber=lambda: transcriber)

    (job, result), (_, plain_result) = stored(transcribed), stored(plain)
    assert job.status == JobStatus.SUCCEEDED and plain_result.utterances is None
    assert_utterances_fit(result.utterances, result.segments)


def test_a_worker_without_a_recogniser_fails_the_job_that_asked_and_no_other(
    embedded: Settings, asked_to_transcribe: Callable[[np.ndarray], uuid.UUID], tmp_path: Path
) -> None:
    classifier = AudioClassifier.load(embedded.model, device="cpu", window_seconds=1.0)
    transcribed = asked_to_transcribe(speechlike(1.5, seed=1))
    plain = queue_job(tmp_path, speechlike(1.5, seed=2))
    get_transcriber.cache_clear()

    run(plain, classifier, embedded, transcriber=get_transcriber)

    assert (stored(transcribed)[0].status, stored(transcribed)[0].error_code) == (
        JobStatus.FAILED,
        "transcription_unavailable",
    )
    assert stored(transcribed)[1] is None and stored(plain)[0].status == JobStatus.SUCCEEDED


def test_a_recogniser_that_cannot_load_is_unavailable_and_tried_again_next_time(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(embedded, "asr_model", str(tmp_path / "no-such-model"))
    get_transcriber.cache_clear()

    for _ in range(2):
        with pytest.raises(EmoQError) as failure:
            get_transcriber()
        assert failure.value.code == "transcription_unavailable"
