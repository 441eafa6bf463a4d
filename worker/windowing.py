"""How a recording is cut into analysis windows and how window scores become one answer. Numpy only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def slide_windows(blocks: Iterable[np.ndarray], window: int, hop: int) -> Iterator[tuple[Window, np.ndarray]]:
    """Windows of ``window`` samples every ``hop`` samples over audio arriving in blocks, with their samples.

    A clip that fits one window is one window. The tail after the last full window becomes a shorter
    window of its own, so every sample is scored and nothing is padded that the model would see as audio.
    Only the samples a coming window still needs are kept, so memory does not grow with the recording.
    """
    buffer = np.zeros(0, dtype=np.float32)
    offset = total = next_start = 0  # offset: the absolute index of buffer[0]
    last_full: int | None = None
    for block in blocks:
        buffer = np.concatenate([buffer, block])
        total += len(block)
        while next_start + window <= total:
            begin = next_start - offset
            yield Window(next_start, next_start + window), buffer[begin : begin + window]
            last_full, next_start = next_start, next_start + hop
        consumed = min(next_start, total) - offset
        buffer, offset = buffer[consumed:], offset + consumed
    if last_full is None:
        if total:
            yield Window(0, total), buffer
    elif last_full + window < total:
        yield Window(last_full + hop, total), buffer[last_full + hop - offset :]


def count_windows(n_samples: int, window: int, hop: int) -> int:
    """How many windows ``slide_windows`` gives for ``n_samples``, for progress before the audio is read."""
    if n_samples <= window:
        return 1
    full = (n_samples - window) // hop + 1
    return full + int((full - 1) * hop + window < n_samples)


def level_dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    return 20.0 * np.log10(max(rms, 1e-10))


def weighted_mean(probabilities: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Duration-weighted mean of per-window probability rows, renormalised against rounding."""
    mean = np.average(probabilities, axis=0, weights=durations)
    return mean / mean.sum()
