"""Forward: a batch of windows' features through the network, one probability row out per window.

Knows tensors and the device, nothing of audio or jobs. Windows of different lengths share a pass only
where padding is exact (``padding.py``); ``group_key`` tells callers which windows may share one.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Hashable

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from shared.errors import ModelError
from worker.padding import PaddedLengths, make_padding_exact
from worker.precision import Precision, input_dtype
from worker.preprocess import Features

log = logging.getLogger(__name__)

# Share of the free GPU memory one forward pass may take: the rest absorbs fragmentation and the
# allocator's caching, which the first measurement does not see.
GPU_MEMORY_SHARE = 0.6
# How long one forward pass on a CPU should take (see TimeBudget).
CPU_PASS_SECONDS = 0.1


class MemoryBudget:
    """How many windows of a given size fit one forward pass on a GPU: measured on the first pass, then
    halved on every out-of-memory error, so a bad estimate costs one split, not a crash. On CPU the
    configured batch size alone bounds a pass."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.bytes_per_element: float | None = None
        self.share = GPU_MEMORY_SHARE

    def max_windows(self, elements_per_window: int, cap: int) -> int:
        if self.device.type != "cuda" or self.bytes_per_element is None:
            return cap
        free, _ = torch.cuda.mem_get_info(self.device)
        return fitting_windows(free * self.share, self.bytes_per_element, elements_per_window, cap)

    def measure(self, peak_bytes: int, elements: int) -> None:
        if elements and self.bytes_per_element is None:
            self.bytes_per_element = peak_bytes / elements

    def halve(self) -> None:
        self.share /= 2


class TimeBudget:
    """How many windows of a given size one forward pass on a CPU should hold: as many as fit
    ``CPU_PASS_SECONDS`` at the cost per input element measured when the model loaded, at least one
    (without a measurement, the cap).

    On a CPU a pass costs in proportion to what it holds (no idle units for a larger batch to fill), so
    batching only spreads the fixed cost of a pass (Python and dispatch, a few milliseconds), which a
    pass of ``CPU_PASS_SECONDS`` already makes small. Larger passes gain nothing (a base-size wav2vec2
    costs the same per window in passes of 1 or 8) and cost much: their jobs wait for the whole pass,
    and the worker process holds jobs that another process, on an idle core, could be running."""

    def __init__(self) -> None:
        self.seconds_per_element: float | None = None

    def max_windows(self, elements_per_window: int, cap: int) -> int:
        if self.seconds_per_element is None:
            return cap
        per_window = max(self.seconds_per_element * elements_per_window, 1e-9)
        return max(1, min(cap, int(CPU_PASS_SECONDS // per_window)))

    def measure(self, seconds: float, elements: int) -> None:
        if elements:
            self.seconds_per_element = seconds / elements


def fitting_windows(budget_bytes: float, bytes_per_element: float, elements_per_window: int, cap: int) -> int:
    """Windows of ``elements_per_window`` input elements that fit ``budget_bytes``: at least one, at most cap."""
    per_window = max(bytes_per_element * elements_per_window, 1.0)
    return max(1, min(cap, int(budget_bytes // per_window)))


class BatchForward:
    def __init__(
        self,
        model: torch.nn.Module,
        *,
        device: torch.device,
        precision: Precision,
        exact_padding: bool = False,
    ) -> None:
        self.model = model
        self.device = device
        self.precision = precision
        self.dtype = input_dtype(precision)
        self.lengths = PaddedLengths()
        accepts_mask = "attention_mask" in inspect.signature(model.forward).parameters
        self.pads = exact_padding and accepts_mask and make_padding_exact(model, self.lengths)
        self.memory = MemoryBudget(device)
        self.time = TimeBudget()

    def group_key(self, features: Features) -> Hashable:
        """Windows with equal keys may share a pass: any raw-waveform windows where padding is exact,
        otherwise only inputs of identical shape (spectrogram models have one shape for every window)."""
        return tuple(
            (name, "any length" if self.pads and value.dim() == 1 else tuple(value.shape))
            for name, value in features.items()
        )

    def max_windows(self, features: Features, cap: int) -> int:
        """The most windows like ``features`` one pass should hold: what fits the GPU's memory, or on a
        CPU what fits the pass's time budget; never more than ``cap``."""
        elements = sum(v.numel() for v in features.values())
        if self.device.type == "cuda":
            return self.memory.max_windows(elements, cap)
        return self.time.max_windows(elements, cap)

    def calibrate(self, features: Features) -> None:
        """Run one window twice: the first pass pays for what it initialises, the second tells the CPU
        time budget what a window costs. Passes are sized from this one figure for the life of the
        process, so how a recording's windows are grouped does not follow the machine's load from one
        pass to the next. (The threads a pass runs on do, see ``worker/cores.py``; that moves scores
        only by float rounding, about 1e-7.)"""
        self([features])
        started = time.perf_counter()
        self([features])
        if self.device.type != "cuda":
            self.time.measure(time.perf_counter() - started, sum(v.numel() for v in features.values()))

    def __call__(self, batch: list[Features]) -> np.ndarray:
        """Softmax probabilities, one row per window; on GPU out-of-memory, halves the batch (and the
        memory budget) rather than retrying the same allocation."""
        try:
            return self._run(batch)
        except torch.cuda.OutOfMemoryError as exc:
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            self.memory.halve()
            if len(batch) == 1:
                raise ModelError("out of GPU memory on a single window", code="out_of_memory") from exc
            half = len(batch) // 2
            log.warning("CUDA out of memory on %d windows; splitting the batch", len(batch))
            return np.concatenate([self(batch[:half]), self(batch[half:])])

    def _run(self, batch: list[Features]) -> np.ndarray:
        inputs = self._collate(batch)
        measuring = self.device.type == "cuda" and self.memory.bytes_per_element is None
        if measuring:
            torch.cuda.reset_peak_memory_stats(self.device)
            baseline = torch.cuda.memory_allocated(self.device)
        try:
            with torch.inference_mode():
                logits = self.model(**inputs).logits
        finally:
            self.lengths.samples = None
        if measuring:
            elements = sum(v.numel() for k, v in inputs.items() if k != "attention_mask")
            self.memory.measure(torch.cuda.max_memory_allocated(self.device) - baseline, elements)
        return torch.softmax(logits.float(), dim=-1).cpu().numpy()

    def _collate(self, batch: list[Features]) -> dict[str, torch.Tensor]:
        inputs: dict[str, torch.Tensor] = {}
        for name in batch[0]:
            values = [features[name] for features in batch]
            if len({tuple(v.shape) for v in values}) == 1:
                stacked = torch.stack(values)
            else:
                # Only 1-D waveforms differ in length (group_key keeps everything else apart).
                lengths = torch.tensor([len(v) for v in values])
                stacked = pad_sequence(values, batch_first=True)
                inputs["attention_mask"] = (
                    (torch.arange(stacked.shape[1])[None, :] < lengths[:, None]).long().to(self.device)
                )
                self.lengths.samples = lengths
            if stacked.is_floating_point():
                stacked = stacked.to(self.dtype)
            inputs[name] = stacked.to(self.device)
        return inputs
