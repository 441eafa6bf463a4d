"""Any audio-classification checkpoint loads and scores like transformers' own pipeline: raw-waveform
encoders (wav2vec2 in both norms, HuBERT, WavLM) and spectrogram ones (AST, Whisper's encoder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import pipeline

from tests.model_factory import save_tiny_architecture, save_tiny_checkpoint
from tests.worker.test_inference import RATE, speechlike
from worker.inference import AudioClassifier

ARCHITECTURES = ["wav2vec2-group", "wav2vec2-layer", "hubert", "wavlm", "ast", "whisper"]


@pytest.fixture(scope="module", params=ARCHITECTURES)
def checkpoint(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp(request.param)
    if request.param.startswith("wav2vec2-"):
        return save_tiny_checkpoint(directory, norm=request.param.removeprefix("wav2vec2-"))
    return save_tiny_architecture(directory, request.param)


def pipeline_scores(checkpoint: Path, clip: np.ndarray) -> dict[str, float]:
    classify = pipeline("audio-classification", model=str(checkpoint), device="cpu")
    return {r["label"]: r["score"] for r in classify({"raw": clip, "sampling_rate": RATE}, top_k=None)}


def test_every_window_scores_as_the_pipeline_scores_it_alone(checkpoint: Path) -> None:
    # Windows of 1.5 s every 1 s over 4.2 s: three full ones and a 1.2 s tail share passes of 4.
    clip = speechlike(4.2, seed=7)
    classifier = AudioClassifier.load(
        str(checkpoint), device="cpu", window_seconds=1.5, hop_seconds=1.0, batch_size=4
    )

    result = classifier.classify(clip)

    assert [(s.start_s, s.end_s) for s in result.segments] == [(0.0, 1.5), (1.0, 2.5), (2.0, 3.5), (3.0, 4.2)]
    for segment in result.segments:
        window = clip[round(segment.start_s * RATE) : round(segment.end_s * RATE)]
        expected = pipeline_scores(checkpoint, window)
        assert {s.label: s.score for s in segment.scores} == pytest.approx(expected, abs=1e-4)


def test_windows_of_different_lengths_share_a_pass_exactly_where_the_network_allows(checkpoint: Path) -> None:
    classifier = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=2.0)
    clips = [speechlike(seconds, seed=i) for i, seconds in enumerate((2.0, 0.7, 1.3))]
    features = [classifier.preprocessor.features(clip) for clip in clips]

    assert len({classifier.forward.group_key(f) for f in features}) == 1
    together = classifier.forward(features)
    alone = np.concatenate([classifier.forward([f]) for f in features])

    np.testing.assert_allclose(together, alone, atol=1e-5)


@pytest.mark.parametrize("architecture", ["hubert", "wavlm"])
def test_group_norm_encoders_batch_mixed_lengths_only_through_the_length_aware_norm(
    architecture: str, tmp_path: Path
) -> None:
    """Without the norm's hook, a padded batch changes the short window's scores: the hook is what
    makes mixing lengths exact, not luck."""
    checkpoint = save_tiny_architecture(tmp_path, architecture)
    classifier = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=2.0)
    features = [classifier.preprocessor.features(speechlike(s, seed=2)) for s in (2.0, 0.6)]
    alone = classifier.forward([features[1]])[0]

    classifier.forward.lengths.samples = None
    unhooked = classifier.forward.model(
        input_values=torch.nn.utils.rnn.pad_sequence([f["input_values"] for f in features], batch_first=True),
        attention_mask=torch.tensor([[1] * 32000, [1] * 9600 + [0] * 22400]),
    ).logits.softmax(-1)[1]

    assert classifier.forward.pads
    assert np.abs(unhooked.detach().numpy() - alone).max() > 1e-3
    np.testing.assert_allclose(classifier.forward(features)[1], alone, atol=1e-5)
