"""Scoring whole clips during training exactly as the service will: through the worker's AudioClassifier.

Windows of ``emoq_window_seconds`` every ``emoq_hop_seconds``, near-silent ones skipped, scores averaged by
duration. Choosing the epoch on any other scheme would tune the model for a path nobody serves.
"""

from __future__ import annotations

import numpy as np
import torch

from shared.errors import AudioError
from worker.evaluation.metrics import Metrics, compute_metrics
from worker.inference import AudioClassifier, ModelIdentity


def clip_probabilities(
    model: torch.nn.Module, feature_extractor: object, waveforms: list[np.ndarray], *, device: torch.device
) -> np.ndarray:
    """One row of label probabilities per clip, columns in the model's label order."""
    was_training = model.training
    model.eval()
    classifier = AudioClassifier(
        model,
        feature_extractor,
        ModelIdentity(id="in-training", revision="unsaved"),
        device=device,
        batch_size=32,
        window_seconds=model.config.emoq_window_seconds,
        hop_seconds=model.config.emoq_hop_seconds,
        silence_dbfs=-50.0,
    )
    uniform = [1.0 / len(classifier.labels)] * len(classifier.labels)
    rows = []
    for wave in waveforms:
        try:
            scores = {score.label: score.score for score in classifier.classify(wave).scores}
        except AudioError:
            # Silent throughout: the service gives no answer, so the clip counts as a miss, not a crash.
            rows.append(uniform)
            continue
        rows.append([scores[label] for label in classifier.labels])
    model.train(was_training)
    return np.asarray(rows, dtype=np.float64)


def score_clips(
    model: torch.nn.Module,
    feature_extractor: object,
    waveforms: list[np.ndarray],
    label_ids: list[int],
    *,
    device: torch.device,
) -> Metrics:
    probabilities = clip_probabilities(model, feature_extractor, waveforms, device=device)
    return compute_metrics(np.asarray(label_ids), probabilities.argmax(axis=1), model.config.num_labels)
