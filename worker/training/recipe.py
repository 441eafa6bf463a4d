"""What a training through the API follows: from scratch, the recipe the shipped model was made with;
fine-tuning, the windows and input conditioning of the checkpoint it starts from.

The shipped model's recipe is the one measured best over leave-speakers-out folds (docs/model.md), so a
model of one's own starts from there rather than from older defaults. ``emoq train`` takes every part of
it as an option instead (its model card names the command).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from transformers import AutoConfig

from worker.conditioning import Conditioning
from worker.training.architecture import HOP_SECONDS
from worker.training.augment import AugmentSettings


@dataclass(frozen=True)
class Recipe:
    preset: str | None  # None: the architecture of the checkpoint fine-tuned
    augment: AugmentSettings = field(default_factory=AugmentSettings)
    hop_seconds: float = HOP_SECONDS
    conditioning: Conditioning | None = None


# models/emoq-emodb-small: `emoq train --config-preset filterbank --window-seconds 3 --hop-seconds 2
# --speed-range 0.2 --tempo-range 0.1 --trim-db 40 --normalize peak` (its model card).
SHIPPED = Recipe(
    preset="filterbank",
    augment=AugmentSettings(crop_seconds=3.0, speed_range=0.2, tempo_range=0.1),
    hop_seconds=2.0,
    conditioning=Conditioning(trim_db=40, normalize="peak"),
)


def recipe_for(base: Path | None) -> Recipe:
    """The shipped recipe without a base; with one, its own windows and conditioning (a checkpoint meets
    at inference the audio it learnt from) and the default augmentation."""
    if base is None:
        return SHIPPED
    config = AutoConfig.from_pretrained(base, local_files_only=True)
    window = getattr(config, "emoq_window_seconds", None)
    return Recipe(
        preset=None,
        augment=AugmentSettings(crop_seconds=window) if window else AugmentSettings(),
        hop_seconds=getattr(config, "emoq_hop_seconds", None) or HOP_SECONDS,
        conditioning=Conditioning.from_config(config),
    )
