"""The training loop: class-weighted, label-smoothed loss; warm-up then cosine decay; gradient clipping;
early stopping on validation UAR."""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import get_cosine_schedule_with_warmup

from worker.evaluation.metrics import Metrics
from worker.training.augment import AugmentSettings
from worker.training.dataset import CropBatches, class_weights
from worker.training.validation import score_clips


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 60
    batch_size: int = 32
    crops_per_clip: int = 2
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.08
    label_smoothing: float = 0.1
    max_grad_norm: float = 1.0
    # Validation UAR jumps 5-8 points between epochs on two speakers, so epochs are compared on the mean
    # of the last few; patience counts epochs without a new best of that mean.
    smoothing_epochs: int = 3
    patience: int = 15
    seed: int = 0
    augment: AugmentSettings = field(default_factory=AugmentSettings)


@dataclass(frozen=True)
class LabelledAudio:
    waveforms: list[np.ndarray]
    label_ids: list[int]


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    loss: float
    learning_rate: float
    validation_uar: float | None
    smoothed_uar: float | None
    seconds: float


@dataclass
class TrainingResult:
    history: list[EpochRecord]
    selected_epoch: int
    stopped_early: bool
    validation: Metrics | None = None
    test: Metrics | None = None


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # warn_only: a CUDA op without a deterministic kernel should slow nothing down or stop the run.
    torch.use_deterministic_algorithms(True, warn_only=True)


def train(
    model: torch.nn.Module,
    feature_extractor: object,
    train_set: LabelledAudio,
    validation_set: LabelledAudio | None,
    settings: TrainSettings,
    *,
    device: torch.device,
    sampling_rate: int,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> TrainingResult:
    """Train ``model`` in place and leave it holding the selected epoch's weights, in eval mode.

    With a validation set the selected epoch is the best by smoothed validation UAR; without one it is
    the last epoch, which is how a final model is retrained on all non-test speakers. ``on_epoch`` hears
    of every finished epoch (the service records progress there); an exception it raises stops training.
    """
    rng = np.random.default_rng(settings.seed)
    model.to(device).train()
    n_labels = model.config.num_labels
    batches = CropBatches(
        train_set.waveforms,
        train_set.label_ids,
        batch_size=settings.batch_size,
        crops_per_clip=settings.crops_per_clip,
        sampling_rate=sampling_rate,
        settings=settings.augment,
        rng=rng,
    )
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=class_weights(train_set.label_ids, n_labels).to(device),
        label_smoothing=settings.label_smoothing,
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    total_steps = settings.epochs * len(batches)
    scheduler = get_cosine_schedule_with_warmup(
        optimizer, round(settings.warmup_fraction * total_steps), total_steps
    )

    history: list[EpochRecord] = []
    best_smoothed, best_epoch, best_state = -1.0, 0, None
    stopped_early = False
    # disable=None: a bar on a terminal only; logs (a worker's, a redirected run's) get the epoch lines.
    progress = tqdm(
        range(1, settings.epochs + 1), desc="train", unit="epoch", dynamic_ncols=True, disable=None
    )
    for epoch in progress:
        started = time.monotonic()
        model.train()
        losses = []
        for batch in batches:
            logits = model(
                input_values=batch.input_values.to(device), attention_mask=batch.attention_mask.to(device)
            ).logits
            loss = loss_fn(logits, batch.labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())

        uar = smoothed = None
        if validation_set is not None:
            uar = score_clips(
                model, feature_extractor, validation_set.waveforms, validation_set.label_ids, device=device
            ).uar
            window = [r.validation_uar for r in history if r.validation_uar is not None] + [uar]
            smoothed = float(np.mean(window[-settings.smoothing_epochs :]))
        record = EpochRecord(
            epoch=epoch,
            loss=float(np.mean(losses)),
            learning_rate=scheduler.get_last_lr()[0],
            validation_uar=uar,
            smoothed_uar=smoothed,
            seconds=time.monotonic() - started,
        )
        history.append(record)
        progress.set_postfix(loss=f"{record.loss:.3f}", val_uar="-" if uar is None else f"{uar:.3f}")
        progress.write(_describe(record))
        if on_epoch is not None:
            on_epoch(record)

        if smoothed is None:
            continue
        if smoothed > best_smoothed:
            best_smoothed, best_epoch = smoothed, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= settings.patience:
            stopped_early = True
            progress.write(f"early stop: smoothed validation UAR last improved at epoch {best_epoch}")
            break
    progress.close()

    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return TrainingResult(
        history=history, selected_epoch=best_epoch or len(history), stopped_early=stopped_early
    )


def _describe(record: EpochRecord) -> str:
    text = f"epoch {record.epoch:3d}  loss {record.loss:.4f}  lr {record.learning_rate:.2e}"
    if record.validation_uar is not None:
        text += f"  val UAR {record.validation_uar:.3f} (mean of last {record.smoothed_uar:.3f})"
    return f"{text}  {record.seconds:.1f}s"
