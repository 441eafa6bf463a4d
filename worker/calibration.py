"""Temperature scaling: one scalar that makes the reported probabilities mean what they say.

Dividing a window's logits by a temperature T > 1 softens its softmax without changing its ranking. The
forward pass hands over softmax rows, not logits; ``softmax(log p / T)`` equals ``softmax(logits / T)``
exactly (the log-sum-exp term is one constant per row), so the temperature is applied to probabilities.

The service reports a recording's probabilities as the duration-weighted mean of its windows' rows, so the
temperature is fitted to that mean (negative log-likelihood of the true label, by LBFGS on log T), on
clips of speakers the model never trained on, and stored in the checkpoint as ``emoq_temperature``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Expected calibration error is reported over 15 equal-width confidence bins, as Guo et al. (2017) do.
ECE_BINS = 15
# A probability that rounds to 0 in float32 stays 0 at any temperature; log needs a floor.
LOG_FLOOR = 1e-30


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Rows of softmax probabilities as they would be with logits divided by ``temperature``."""
    if temperature == 1.0:
        return probabilities
    scaled = np.log(np.maximum(probabilities.astype(np.float64), LOG_FLOOR)) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(probabilities.dtype)


@dataclass(frozen=True)
class ClipWindows:
    """One recording's scored windows, as the service sees them before averaging."""

    probabilities: np.ndarray  # (windows, labels), softmax rows at temperature 1
    durations: np.ndarray  # (windows,), the weights of the duration-weighted mean

    def at_temperature(self, temperature: float) -> np.ndarray:
        rows = apply_temperature(self.probabilities, temperature)
        mean = np.average(rows, axis=0, weights=self.durations)
        return mean / mean.sum()


def expected_calibration_error(probabilities: np.ndarray, true: np.ndarray, bins: int = ECE_BINS) -> float:
    """The gap between confidence and accuracy, averaged over equal-width confidence bins, weighted by
    how many predictions fall in each (top-label ECE)."""
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == true).astype(np.float64)
    # Bins are (lo, hi]; a confidence of exactly 0 cannot happen for a softmax row.
    which = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)


def fit_temperature(clips: list[ClipWindows], true: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of the reported (averaged) scores."""
    import torch

    log_rows = [
        torch.log(torch.from_numpy(c.probabilities.astype(np.float64)).clamp_min(LOG_FLOOR)) for c in clips
    ]
    weights = [torch.from_numpy(c.durations / c.durations.sum()) for c in clips]
    targets = torch.from_numpy(np.asarray(true, dtype=np.int64))
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def nll() -> torch.Tensor:
        optimiser.zero_grad()
        means = torch.stack(
            [
                (w[:, None] * torch.softmax(rows / log_t.exp(), dim=-1)).sum(0)
                for rows, w in zip(log_rows, weights, strict=True)
            ]
        )
        loss = -torch.log(means.gather(1, targets[:, None]).clamp_min(LOG_FLOOR)).mean()
        loss.backward()
        return loss

    optimiser.step(nll)
    return float(log_t.detach().exp())


def store_temperature(checkpoint: Path, temperature: float) -> None:
    """Write ``emoq_temperature`` into a local checkpoint's config.json, leaving every other key as it is."""
    path = checkpoint / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["emoq_temperature"] = round(temperature, 4)
    # The layout transformers' save_pretrained writes, so the diff shows only this key.
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
