"""What a model's folder says about reading its results reaches the classifier the worker holds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shared.config import Settings
from shared.results.affect import DEFAULT_CIRCUMPLEX
from shared.results.interpretation import Interpretation
from tests.model_factory import save_tiny_checkpoint
from worker.inference import AudioClassifier


@pytest.fixture
def calibrated_model(tmp_path: Path) -> Path:
    folder = save_tiny_checkpoint(tmp_path / "calibrated")
    config = json.loads((folder / "config.json").read_text())
    config["emoq_low_confidence"] = 0.42
    config["emoq_circumplex"] = {"neutral": {"valence": 0.2, "arousal": -0.3}}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_the_models_calibration_and_circumplex_reach_the_results(calibrated_model: Path) -> None:
    classifier = AudioClassifier.load(str(calibrated_model), device="cpu", window_seconds=0.5)
    classifier.interpretation = Interpretation.from_settings(
        classifier.labels, classifier.model_config, Settings()
    )

    result = classifier.classify(np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32))

    assert classifier.interpretation.low_confidence == 0.42
    assert classifier.interpretation.places["neutral"] == (0.2, -0.3)
    assert classifier.interpretation.places["angry"] == DEFAULT_CIRCUMPLEX["angry"]
    assert result.confidence is not None and result.low_confidence is (result.dominant.score < 0.42)
    assert result.episodes and result.affect is not None and result.affect.derived


def test_a_classifier_without_an_interpretation_gives_scores_alone(calibrated_model: Path) -> None:
    classifier = AudioClassifier.load(str(calibrated_model), device="cpu", window_seconds=0.5)

    result = classifier.classify(np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32))

    assert result.confidence is None and result.episodes is None and result.affect is None
