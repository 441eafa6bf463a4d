"""Clips in memory and the augmented mini-batches an epoch is made of."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from worker.training.augment import AugmentSettings, augment


@dataclass(frozen=True)
class Batch:
    input_values: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor


class CropBatches:
    """An epoch of random augmented crops: every clip ``crops_per_clip`` times, shuffled.

    The corpus is a few hundred short clips, so it is decoded once and held in memory; augmentation runs
    in the training process because a batch costs milliseconds next to the model's step.
    """

    def __init__(
        self,
        waveforms: list[np.ndarray],
        label_ids: list[int],
        *,
        batch_size: int,
        crops_per_clip: int,
        sampling_rate: int,
        settings: AugmentSettings,
        rng: np.random.Generator,
    ) -> None:
        self.waveforms = waveforms
        self.label_ids = np.asarray(label_ids, dtype=np.int64)
        self.batch_size = batch_size
        self.crops_per_clip = crops_per_clip
        self.sampling_rate = sampling_rate
        self.settings = settings
        self.rng = rng

    def __len__(self) -> int:
        return -(-len(self.waveforms) * self.crops_per_clip // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        order = self.rng.permutation(np.tile(np.arange(len(self.waveforms)), self.crops_per_clip))
        for start in range(0, len(order), self.batch_size):
            indices = order[start : start + self.batch_size]
            crops, masks = zip(
                *(augment(self.waveforms[i], self.settings, self.sampling_rate, self.rng) for i in indices),
                strict=True,
            )
            yield Batch(
                input_values=torch.from_numpy(np.stack(crops)),
                attention_mask=torch.from_numpy(np.stack(masks)),
                labels=torch.from_numpy(self.label_ids[indices]),
            )


def class_weights(label_ids: list[int], n_labels: int) -> torch.Tensor:
    """Inverse class frequency, scaled so a balanced set gets weight 1 everywhere.

    A class absent from training gets weight 0 instead of an infinite one.
    """
    counts = np.bincount(np.asarray(label_ids, dtype=np.int64), minlength=n_labels).astype(np.float64)
    weights = np.divide(len(label_ids), n_labels * counts, out=np.zeros(n_labels), where=counts > 0)
    return torch.tensor(weights, dtype=torch.float32)
