"""Postprocess: per-window probabilities into the answer a client reads (plain labels and scores)."""

from __future__ import annotations

import numpy as np

from shared.errors import AudioError
from shared.schemas.results import Classification, Segment, sorted_scores
from worker.calibration import apply_temperature
from worker.windowing import Window, weighted_mean


def summarise(
    labels: list[str],
    sampling_rate: int,
    windows: list[Window],
    probabilities: dict[Window, np.ndarray],
    *,
    temperature: float = 1.0,
) -> Classification:
    """The timeline (silent windows marked, not scored) and its duration-weighted mean, each window's
    scores softened by the checkpoint's calibrated ``temperature``. Audio that is silent throughout has
    no emotion to report: ``AudioError`` with code ``no_speech``."""
    if not probabilities:
        raise AudioError("the recording is silent throughout: no speech to score", code="no_speech")
    probabilities = {window: apply_temperature(row, temperature) for window, row in probabilities.items()}
    segments = []
    for window in windows:
        start_s, end_s = window.start / sampling_rate, window.end / sampling_rate
        row = probabilities.get(window)
        if row is None:
            segments.append(Segment(start_s=start_s, end_s=end_s, silent=True))
            continue
        scores = sorted_scores(labels, row.tolist())
        segments.append(Segment(start_s=start_s, end_s=end_s, dominant=scores[0], scores=scores))
    scored = list(probabilities)
    lengths = np.array([w.length for w in scored])
    mean = weighted_mean(np.stack([probabilities[w] for w in scored]), lengths)
    scores = sorted_scores(labels, mean.tolist())
    return Classification(dominant=scores[0], scores=scores, segments=segments)
