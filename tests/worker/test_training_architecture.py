"""The presets `emoq train --config-preset` builds from scratch."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForAudioClassification

from cli import train
from worker.inference import AudioClassifier
from worker.training.architecture import PRESETS, SAMPLING_RATE, build_model, feature_extractor, mel_centres

LABELS = ["angry", "happy", "sad"]


def band_magnitudes(model: torch.nn.Module, wave: np.ndarray) -> np.ndarray:
    """What the third conv layer's band channels give for ``wave``, averaged over time."""
    layers = model.wav2vec2.feature_extractor.conv_layers
    with torch.no_grad():
        hidden = torch.from_numpy(wave)[None, None, :]
        for layer in layers[:3]:
            hidden = layer(hidden)
    return hidden[0, : model.config.emoq_filterbank_bands].mean(dim=1).numpy()


@pytest.mark.parametrize("frequency", [150.0, 440.0, 1000.0, 2500.0, 6000.0])
def test_the_filterbank_preset_starts_as_a_spectrum_each_tone_in_its_own_band(frequency: float) -> None:
    model = build_model(LABELS, preset="filterbank").eval()
    t = np.arange(SAMPLING_RATE) / SAMPLING_RATE
    # Noise in every band, so that each channel's per-recording normalisation has something to scale by.
    rng = np.random.default_rng(0)
    wave = (np.sin(2 * np.pi * frequency * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)

    magnitudes = band_magnitudes(model, wave)

    nearest = int(np.argmin(np.abs(mel_centres(model.config.emoq_filterbank_bands) - frequency)))
    assert abs(int(np.argmax(magnitudes)) - nearest) <= 1, (np.argmax(magnitudes), nearest)


def test_a_filterbank_checkpoint_is_a_standard_one_and_serves_through_the_worker(tmp_path: Path) -> None:
    model = build_model(
        LABELS, preset="filterbank", bands=16, hidden_size=32, num_attention_heads=2, intermediate_size=64
    )
    model.save_pretrained(tmp_path)
    feature_extractor().save_pretrained(tmp_path)

    loaded = AutoModelForAudioClassification.from_pretrained(tmp_path)
    classifier = AudioClassifier.load(str(tmp_path), device="cpu")
    t = np.arange(3 * SAMPLING_RATE) / SAMPLING_RATE
    result = classifier.classify((0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))

    assert type(loaded).__name__ == "Wav2Vec2ForSequenceClassification"
    assert loaded.config.conv_kernel == [1, 400, 3, 3] and loaded.config.conv_dim[1] == 4 * 16
    assert torch.equal(
        loaded.wav2vec2.feature_extractor.conv_layers[1].conv.weight,
        model.wav2vec2.feature_extractor.conv_layers[1].conv.weight,
    )
    assert sum(s.score for s in result.scores) == pytest.approx(1.0, abs=1e-5)
    assert len(result.segments) == 3


def test_emoq_train_offers_every_preset_and_no_other() -> None:
    parser = argparse.ArgumentParser()
    train.register(parser.add_subparsers())
    args = parser.parse_args(["train", "--manifest", "m.csv", "--output", "out"])
    [action] = [
        a for a in parser._subparsers._group_actions[0].choices["train"]._actions if a.dest == "config_preset"
    ]

    assert sorted(action.choices) == sorted(PRESETS) and args.config_preset is None
