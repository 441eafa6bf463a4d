"""How a recording is cut into analysis windows and how window scores become one answer. Numpy only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def plan_windows(n_samples: int, window: int, hop: int) -> list[Window]:
    """Windows of ``window`` samples every ``hop`` samples; the last one stops at the end of the audio.

    A clip that fits one window is one window. The tail after the last full window becomes a shorter window
    of its own, so every sample is scored and nothing is padded that the model would see as audio.
    """
    if n_samples <= window:
        return [Window(0, n_samples)]
    windows = [Window(start, start + window) for start in range(0, n_samples - window + 1, hop)]
    if windows[-1].end < n_samples:
        windows.append(Window(windows[-1].start + hop, n_samples))
    return windows


def level_dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    return 20.0 * np.log10(max(rms, 1e-10))


def weighted_mean(probabilities: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Duration-weighted mean of per-window probability rows, renormalised against rounding."""
    mean = np.average(probabilities, axis=0, weights=durations)
    return mean / mean.sum()
