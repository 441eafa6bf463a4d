"""Temperature scaling and expected calibration error, and the temperature applied through the real loader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.model_factory import save_tiny_checkpoint
from worker.calibration import (
    ClipWindows,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    store_temperature,
)
from worker.inference import AudioClassifier

RATE = 16000


def test_tempering_probabilities_equals_tempering_logits() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5], [8.0, 0.0, -3.0]])
    probabilities = torch.softmax(logits, dim=-1).numpy()

    tempered = apply_temperature(probabilities, 2.5)

    assert tempered == pytest.approx(torch.softmax(logits / 2.5, dim=-1).numpy(), abs=1e-6)
    assert apply_temperature(tempered, 1 / 2.5) == pytest.approx(probabilities, abs=1e-6)


def test_ece_by_hand() -> None:
    probabilities = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    true = np.array([0, 1, 0, 1])
    # Bin (0.867, 0.933]: confidence 0.9, accuracy 0.5; bin (0.6-ish]: 0.6 vs 1; bin (0.667, 0.733]: 0.7 vs 1.
    expected = 0.5 * abs(0.5 - 0.9) + 0.25 * abs(1 - 0.6) + 0.25 * abs(1 - 0.7)

    assert expected_calibration_error(probabilities, true) == pytest.approx(expected)
    assert expected_calibration_error(np.eye(3), np.arange(3)) == 0.0


def test_fitting_recovers_the_temperature_of_an_overconfident_model() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(3000, 5))
    # Labels drawn from softmax(logits / 2): a model reporting softmax(logits) is twice too sharp.
    truth = torch.softmax(torch.from_numpy(logits) / 2.0, dim=-1).numpy()
    true = np.array([rng.choice(5, p=row) for row in truth])
    reported = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()
    clips = [ClipWindows(row[None, :], np.ones(1)) for row in reported]

    temperature = fit_temperature(clips, true)

    assert temperature == pytest.approx(2.0, rel=0.1)
    before = expected_calibration_error(reported, true)
    after = expected_calibration_error(np.stack([c.at_temperature(temperature) for c in clips]), true)
    assert after < before / 2


def test_the_loader_applies_the_stored_temperature(tmp_path: Path) -> None:
    checkpoint = save_tiny_checkpoint(tmp_path / "tiny")
    clip = (0.3 * np.sin(2 * np.pi * 180 * np.arange(3 * RATE) / RATE)).astype(np.float32)
    before = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=1.5, hop_seconds=1.0)
    raw = before.classify(clip)

    store_temperature(checkpoint, 3.0)
    after = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=1.5, hop_seconds=1.0)
    tempered = after.classify(clip)

    assert json.loads((checkpoint / "config.json").read_text())["emoq_temperature"] == 3.0
    assert after.temperature == 3.0
    labels = before.labels
    for plain, soft in zip(raw.segments, tempered.segments, strict=True):
        plain_row = np.array([{s.label: s.score for s in plain.scores}[label] for label in labels])
        soft_row = np.array([{s.label: s.score for s in soft.scores}[label] for label in labels])
        assert soft_row == pytest.approx(apply_temperature(plain_row, 3.0), abs=1e-5)
        assert soft.dominant.label == plain.dominant.label
    assert tempered.scores[0].score < raw.scores[0].score  # softer
