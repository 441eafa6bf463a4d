"""The service's inference path against transformers' own pipeline, on real (tiny) checkpoints."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import pipeline

from shared.errors import AudioError, ModelError
from tests.model_factory import LABELS, save_tiny_checkpoint
from worker.calibration import store_temperature
from worker.inference import AudioClassifier, InferenceStopped, ModelIdentity, identify
from worker.precision import Precision
from worker.preprocess import Features

RATE = 16000


@pytest.fixture(scope="module", params=["group", "layer"])
def checkpoint(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_checkpoint(tmp_path_factory.mktemp(f"tiny-{request.param}"), norm=request.param)


def speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    carrier = np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return (0.3 * carrier + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def pipeline_scores(checkpoint: Path, clip: np.ndarray) -> dict[str, float]:
    classify = pipeline("audio-classification", model=str(checkpoint), device="cpu")
    return {r["label"]: r["score"] for r in classify({"raw": clip, "sampling_rate": RATE}, top_k=None)}


def test_one_window_clip_matches_the_transformers_pipeline(checkpoint: Path) -> None:
    clip = speechlike(2.5)
    classifier = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=4.0)

    result = classifier.classify(clip)

    expected = pipeline_scores(checkpoint, clip)
    assert {s.label: s.score for s in result.scores} == pytest.approx(expected, abs=1e-4)
    assert [s.score for s in result.scores] == sorted((s.score for s in result.scores), reverse=True)
    assert sum(s.score for s in result.scores) == pytest.approx(1.0, abs=1e-6)
    assert result.dominant == result.scores[0]
    assert {s.label for s in result.scores} == set(LABELS)


def test_long_audio_is_windowed_batched_and_aggregated_by_duration(checkpoint: Path) -> None:
    clip = speechlike(5.5, seed=3)
    classifier = AudioClassifier.load(
        str(checkpoint), device="cpu", window_seconds=2.0, hop_seconds=1.5, batch_size=3
    )
    progress: list[float] = []

    result = classifier.classify(clip, on_progress=lambda p: progress.append(p) or True)

    spans = [(s.start_s, s.end_s) for s in result.segments]
    assert spans == [(0.0, 2.0), (1.5, 3.5), (3.0, 5.0), (4.5, 5.5)]
    for segment in result.segments:
        window = clip[round(segment.start_s * RATE) : round(segment.end_s * RATE)]
        expected = pipeline_scores(checkpoint, window)
        assert {s.label: s.score for s in segment.scores} == pytest.approx(expected, abs=1e-4)
    durations = np.array([end - start for start, end in spans])
    mean = (
        sum(
            d * np.array([{s.label: s.score for s in seg.scores}[label] for label in LABELS])
            for d, seg in zip(durations, result.segments, strict=True)
        )
        / durations.sum()
    )
    assert {s.label: s.score for s in result.scores} == pytest.approx(dict(zip(LABELS, mean, strict=True)))
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) >= 2


def test_silent_windows_are_marked_not_scored(checkpoint: Path) -> None:
    clip = np.concatenate([speechlike(2.0), np.zeros(2 * RATE, dtype=np.float32), speechlike(2.0, seed=1)])
    classifier = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=2.0, hop_seconds=2.0)

    result = classifier.classify(clip)

    assert [s.silent for s in result.segments] == [False, True, False]
    assert result.segments[1].scores is None
    loud = [s for s in result.segments if not s.silent]
    expected = {
        label: np.mean([{x.label: x.score for x in s.scores}[label] for s in loud]) for label in LABELS
    }
    assert {s.label: s.score for s in result.scores} == pytest.approx(expected)


def test_silence_throughout_is_no_speech_not_an_emotion(checkpoint: Path) -> None:
    classifier = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=1.0)

    with pytest.raises(AudioError) as excinfo:
        classifier.classify(np.zeros(2 * RATE, dtype=np.float32))

    assert excinfo.value.code == "no_speech"


def test_a_stream_of_blocks_scores_exactly_like_the_whole_waveform(checkpoint: Path) -> None:
    clip = speechlike(6.3, seed=5)
    classifier = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=1.5, hop_seconds=1.0)
    blocks = (clip[i : i + 4097] for i in range(0, len(clip), 4097))
    progress: list[float] = []

    streamed = classifier.classify(blocks, lambda p: progress.append(p) or True, expected_samples=len(clip))

    assert streamed == classifier.classify(clip)
    assert progress[-1] == 1.0


def test_clip_shorter_than_the_receptive_field_is_padded(checkpoint: Path) -> None:
    classifier = AudioClassifier.load(str(checkpoint), device="cpu")

    result = classifier.classify(speechlike(0.001))

    assert len(result.scores) == len(LABELS)


def test_progress_callback_can_stop_inference(checkpoint: Path) -> None:
    classifier = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=1.0, batch_size=1)

    with pytest.raises(InferenceStopped):
        classifier.classify(speechlike(4.0), on_progress=lambda p: p < 0.5)


def test_identity_names_a_local_checkpoint_by_folder_and_weights_hash(checkpoint: Path) -> None:
    classifier = AudioClassifier.load(str(checkpoint), device="cpu")

    assert classifier.model_id == checkpoint.name
    assert len(classifier.revision) == 12 and classifier.revision != "unknown"
    assert classifier.labels == list(LABELS)
    assert classifier.sampling_rate == RATE


def test_weights_are_hashed_as_a_stream_not_read_whole(
    checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [weights] = checkpoint.glob("*.safetensors")
    expected = hashlib.sha256(
        hashlib.sha256(weights.read_bytes()).digest()
        + hashlib.sha256((checkpoint / "config.json").read_bytes()).digest()
    ).hexdigest()[:12]

    def read_whole(self: Path) -> bytes:
        raise AssertionError(f"{self} read into memory whole")

    monkeypatch.setattr(Path, "read_bytes", read_whole)

    assert identify(str(checkpoint), None, Precision.FP32) == ModelIdentity(
        id=checkpoint.name, revision=expected, precision="fp32"
    )


def test_a_new_temperature_is_a_new_revision(checkpoint: Path, tmp_path: Path) -> None:
    # The scores change with the config's temperature or conditioning, so results must say which ran.
    before = identify(str(checkpoint), None, Precision.FP32).revision
    copy = tmp_path / checkpoint.name
    shutil.copytree(checkpoint, copy)
    store_temperature(copy, 1.5)

    assert identify(str(copy), None, Precision.FP32).revision != before


def test_out_of_memory_halves_the_batch_instead_of_retrying(
    checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    classifier = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=0.5, batch_size=8)
    expected = classifier.classify(speechlike(4.0))
    real_run = classifier.forward._run
    batch_sizes: list[int] = []

    def run_with_little_memory(batch: list[Features]) -> np.ndarray:
        batch_sizes.append(len(batch))
        if len(batch) > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return real_run(batch)

    monkeypatch.setattr(classifier.forward, "_run", run_with_little_memory)
    result = classifier.classify(speechlike(4.0))

    assert batch_sizes[:3] == [8, 4, 2]
    assert max(n for n in batch_sizes if n <= 2) == 2
    assert {s.label: s.score for s in result.scores} == pytest.approx(
        {s.label: s.score for s in expected.scores}
    )


def test_out_of_memory_on_one_window_is_a_model_error(
    checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    classifier = AudioClassifier.load(str(checkpoint), device="cpu")

    def no_memory(batch: list[Features]) -> np.ndarray:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(classifier.forward, "_run", no_memory)
    with pytest.raises(ModelError) as excinfo:
        classifier.classify(speechlike(1.0))

    assert excinfo.value.code == "out_of_memory"
