"""One training run from a manifest to a saved checkpoint with its model card.

The ``emoq train`` command builds a ``TrainingPlan`` from its arguments; anything else that trains (a
background task, a test) builds one the same way, so every checkpoint is made by this one function.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from shared.audio import decode_to_mono
from shared.config import get_settings
from worker.conditioning import Conditioning
from worker.inference import resolve_device
from worker.training.architecture import HOP_SECONDS, SAMPLING_RATE, build_model, feature_extractor
from worker.training.card import CardFacts, describe_architecture, render_card
from worker.training.manifest import Clip, labels_of, read_manifest
from worker.training.splits import split_by_speaker
from worker.training.trainer import (
    EpochRecord,
    LabelledAudio,
    TrainingResult,
    TrainSettings,
    seed_everything,
    train,
)
from worker.training.validation import score_clips


@dataclass(frozen=True)
class TrainingPlan:
    manifest: Path
    output: Path
    settings: TrainSettings
    init_from: Path | None = None
    config_preset: str | None = None
    config_overrides: dict[str, Any] = field(default_factory=dict)
    # None: about 20 % of the speakers, drawn with the seed; []: none, train for exactly the epochs.
    validation_speakers: list[str] | None = None
    test_speakers: list[str] = field(default_factory=list)
    device: str = "auto"
    # Stored in the checkpoint (emoq_preprocessing): training clips are conditioned with it here, and
    # validation, evaluation and the worker read it back from the config, so all four agree.
    conditioning: Conditioning | None = None
    hop_seconds: float = HOP_SECONDS  # windows are as long as the training crops (settings.augment)
    command: str = ""  # how to repeat the run, for the model card
    on_epoch: Callable[[EpochRecord], None] | None = None  # see trainer.train


def train_checkpoint(plan: TrainingPlan, report: Callable[[str], None] = print) -> TrainingResult:
    started = time.monotonic()
    seed_everything(plan.settings.seed)
    clips = read_manifest(plan.manifest)
    labels = labels_of(clips)
    split = split_by_speaker(
        clips,
        validation_speakers=plan.validation_speakers,
        test_speakers=plan.test_speakers,
        seed=plan.settings.seed,
    )
    for part in ("train", "validation", "test"):
        report(
            f"{part}: {len(getattr(split, part))} clips, speakers {', '.join(split.speakers(part)) or '-'}"
        )
    # Only the training clips are conditioned up front: validation and test clips go through the
    # worker's classifier, which conditions them itself from the checkpoint's config.
    train_set, validation_set, test_set = (
        _decode(getattr(split, part), labels, plan.conditioning if part == "train" else None)
        for part in ("train", "validation", "test")
    )

    model = build_model(
        labels,
        preset=plan.config_preset,
        init_from=plan.init_from,
        window_seconds=plan.settings.augment.crop_seconds,
        hop_seconds=plan.hop_seconds,
        **plan.config_overrides,
    )
    if plan.conditioning is not None:
        model.config.emoq_preprocessing = plan.conditioning.as_config()
    extractor = feature_extractor()
    device = resolve_device(plan.device)
    result = train(
        model,
        extractor,
        train_set,
        validation_set,
        plan.settings,
        device=device,
        sampling_rate=SAMPLING_RATE,
        on_epoch=plan.on_epoch,
    )
    for part, dataset in (("validation", validation_set), ("test", test_set)):
        if dataset is not None:
            metrics = score_clips(model, extractor, dataset.waveforms, dataset.label_ids, device=device)
            setattr(result, part, metrics)
            report(
                f"{part}: UAR {metrics.uar:.3f}  accuracy {metrics.accuracy:.3f}  F1 {metrics.macro_f1:.3f}"
            )

    plan.output.mkdir(parents=True, exist_ok=True)
    model.to(torch.device("cpu")).save_pretrained(plan.output)
    extractor.save_pretrained(plan.output)
    overrides = plan.config_overrides
    start = str(plan.init_from) if plan.init_from else f"config preset '{plan.config_preset or 'small'}'"
    facts = CardFacts(
        model_name=plan.output.name,
        location=str(plan.output),
        manifest=plan.manifest,
        labels=labels,
        split=split,
        settings=plan.settings,
        result=result,
        initialised_from=start
        + (f" with {overrides}" if overrides else "")
        + ("" if plan.init_from else ", random weights"),
        parameters=sum(p.numel() for p in model.parameters()),
        architecture=describe_architecture(model.config),
        device=str(device),
        command=plan.command,
        minutes=(time.monotonic() - started) / 60,
        window_seconds=model.config.emoq_window_seconds,
        hop_seconds=model.config.emoq_hop_seconds,
    )
    (plan.output / "README.md").write_text(render_card(facts), encoding="utf-8")
    report(f"saved {plan.output}")
    return result


def _decode(clips: list[Clip], labels: list[str], conditioning: Conditioning | None) -> LabelledAudio | None:
    """The clips as waveforms in memory with their label indices; None for an empty part."""
    if not clips:
        return None
    max_seconds = get_settings().max_audio_seconds
    # The service's own decoder, so training sees exactly the samples inference will see.
    waveforms = [decode_to_mono(c.path, target_rate=SAMPLING_RATE, max_seconds=max_seconds) for c in clips]
    if conditioning is not None:
        waveforms = [conditioning.apply(wave, SAMPLING_RATE)[0] for wave in waveforms]
    return LabelledAudio(waveforms, [labels.index(c.label) for c in clips])
