"""A training's final evaluation on its held-out speakers, by the code ``emoq evaluate`` runs on the saved
checkpoint (``load_classifier``, ``evaluate``, ``as_json``), so that ``emoq evaluate`` of the registered
checkpoint on those clips gives the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.config import Settings
from worker.evaluation.confusion_plot import save_confusion_png
from worker.evaluation.report import as_json
from worker.evaluation.runner import evaluate, load_classifier
from worker.evaluation.scope import resolve_scope
from worker.training.manifest import labels_of, read_manifest


@dataclass(frozen=True)
class HeldOut:
    evaluation: dict[str, Any]  # as TrainingRead.evaluation reads it
    labels: list[str]  # the model's
    confusion_png: Path


def evaluate_held_out(
    checkpoint: Path, manifest: Path, speakers: list[str], settings: Settings, scratch: Path
) -> HeldOut:
    clips = [clip for clip in read_manifest(manifest) if clip.speaker in speakers]
    classifier = load_classifier(str(checkpoint), device=settings.device)
    scope = resolve_scope(classifier.labels, labels_of(clips), None)
    scored = scope.scored(clips)
    result = evaluate(classifier, scored, scope, max_seconds=settings.max_audio_seconds, progress=False)
    report = as_json(
        result,
        scope,
        model=str(checkpoint),
        manifest=str(manifest),
        model_labels=classifier.labels,
        temperature=classifier.temperature,
    )
    png = save_confusion_png(
        np.asarray(report["confusion"]),
        scope.labels,
        scratch / "confusion.png",
        title=f"held-out speakers: UAR {result.metrics.uar:.3f}",
    )
    evaluation = {
        "n": report["n"],
        "uar": report["uar"],
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "per_class": report["per_class"],
        "confusion": {"labels": scope.labels, "matrix": report["confusion"]},
        "speakers": sorted(speakers),
    }
    return HeldOut(evaluation=evaluation, labels=list(classifier.labels), confusion_png=png)
