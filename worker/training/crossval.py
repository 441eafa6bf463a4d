"""Leave-speakers-out cross-validation: one model per fold, each scored on the speakers it never heard.

A single held-out pair of speakers says little about a recipe: on EmoDB the UAR of two speakers differs by
25 points for one model. Every fold trains with the same plan on every other speaker and is scored through
the service's own path (the saved checkpoint, loaded as a worker loads it). The clips of all folds together
are out-of-fold predictions of the recipe, so they also give an honest temperature: fitted on the other
folds and measured on each fold in turn (the cross-validated ECE), then fitted on all of them for a model
trained with this recipe.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.config import get_settings
from shared.errors import InvalidRequest
from worker.calibration import expected_calibration_error, fit_temperature
from worker.evaluation.metrics import Metrics, metrics_from_confusion
from worker.evaluation.runner import ClipOutcome, evaluate, load_classifier
from worker.evaluation.scope import resolve_scope
from worker.training.manifest import labels_of, read_manifest, speakers_of
from worker.training.run import TrainingPlan, train_checkpoint


@dataclass(frozen=True)
class FoldResult:
    speakers: list[str]
    checkpoint: Path
    metrics: Metrics
    per_speaker: dict[str, Metrics]
    outcomes: list[ClipOutcome]


@dataclass(frozen=True)
class CrossValidation:
    labels: list[str]
    folds: list[FoldResult]

    @property
    def fold_uars(self) -> list[float]:
        return [fold.metrics.uar for fold in self.folds]

    @property
    def pooled(self) -> Metrics:
        return metrics_from_confusion(sum(fold.metrics.confusion for fold in self.folds))

    def calibration(self) -> dict[str, float]:
        """ECE of the pooled out-of-fold scores at 1, and at a temperature fitted on the other folds."""
        true = [self._true(fold.outcomes) for fold in self.folds]
        raw = _ece([o for fold in self.folds for o in fold.outcomes], np.concatenate(true), 1.0)
        held_out = []
        for k, fold in enumerate(self.folds):
            others = [o for j, other in enumerate(self.folds) if j != k for o in other.outcomes]
            others_true = np.concatenate([t for j, t in enumerate(true) if j != k])
            temperature = fit_temperature([o.windows for o in others], others_true)
            held_out.append(_ece(fold.outcomes, true[k], temperature) * len(fold.outcomes))
        everything = [o for fold in self.folds for o in fold.outcomes]
        return {
            "ece_uncalibrated": raw,
            "ece_cross_validated": float(sum(held_out) / len(everything)),
            "temperature": fit_temperature([o.windows for o in everything], np.concatenate(true)),
        }

    def _true(self, outcomes: list[ClipOutcome]) -> np.ndarray:
        return np.array([self.labels.index(o.true_label) for o in outcomes], dtype=np.int64)

    def as_json(self) -> dict[str, object]:
        uars = np.array(self.fold_uars)
        pooled = self.pooled
        return {
            "labels": self.labels,
            "uar_mean": float(uars.mean()),
            "uar_std": float(uars.std(ddof=1)) if len(uars) > 1 else 0.0,
            "uar_min": float(uars.min()),
            "pooled": {"uar": pooled.uar, "accuracy": pooled.accuracy, "macro_f1": pooled.macro_f1},
            "confusion": pooled.confusion.tolist(),
            "calibration": self.calibration(),
            "folds": [
                {
                    "speakers": fold.speakers,
                    "checkpoint": str(fold.checkpoint),
                    "n": fold.metrics.n,
                    "uar": fold.metrics.uar,
                    "accuracy": fold.metrics.accuracy,
                    "per_speaker_uar": {s: m.uar for s, m in fold.per_speaker.items()},
                }
                for fold in self.folds
            ],
        }


def _ece(outcomes: list[ClipOutcome], true: np.ndarray, temperature: float) -> float:
    rows = np.stack([o.windows.at_temperature(temperature) for o in outcomes])
    return expected_calibration_error(rows, true)


def check_folds(folds: list[list[str]], speakers: list[str]) -> None:
    named = [speaker for fold in folds for speaker in fold]
    unknown = sorted(set(named) - set(speakers))
    if unknown:
        raise InvalidRequest(f"speaker(s) not in the manifest: {', '.join(unknown)}")
    repeated = sorted({speaker for speaker in named if named.count(speaker) > 1})
    if repeated:
        raise InvalidRequest(f"speaker(s) in more than one fold: {', '.join(repeated)}")
    if len(folds) < 2:
        raise InvalidRequest("cross-validation needs at least two folds")


def cross_validate(
    plan: TrainingPlan, folds: list[list[str]], report: Callable[[str], None] = print
) -> CrossValidation:
    """Train ``plan`` once per fold with that fold's speakers held out, into ``plan.output/fold-K``, and
    write ``crossval.json`` beside them. Every fold trains for exactly the plan's epochs (no validation
    speakers: choosing epochs on them would leave fewer voices to learn from)."""
    clips = read_manifest(plan.manifest)
    check_folds(folds, speakers_of(clips))
    labels = labels_of(clips)
    scope = resolve_scope(labels, labels, None)
    results = []
    for k, speakers in enumerate(folds, start=1):
        report(f"fold {k}/{len(folds)}: holding out {', '.join(speakers)}")
        fold_plan = dataclasses.replace(
            plan, output=plan.output / f"fold-{k}", test_speakers=speakers, validation_speakers=[]
        )
        train_checkpoint(fold_plan, report)
        classifier = load_classifier(str(fold_plan.output), device=plan.device)
        held_out = [clip for clip in clips if clip.speaker in speakers]
        evaluation = evaluate(
            classifier, held_out, scope, max_seconds=get_settings().max_audio_seconds, progress=False
        )
        if evaluation.failures:
            report(f"fold {k}: {len(evaluation.failures)} clip(s) the service would fail, not scored")
        results.append(
            FoldResult(
                speakers=speakers,
                checkpoint=fold_plan.output,
                metrics=evaluation.metrics,
                per_speaker=evaluation.per_speaker(labels),
                outcomes=evaluation.outcomes,
            )
        )
        report(f"fold {k}: UAR {evaluation.metrics.uar:.3f}")
    validation = CrossValidation(labels, results)
    summary = validation.as_json()
    (plan.output / "crossval.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    report(
        f"leave-speakers-out UAR {summary['uar_mean']:.3f} ± {summary['uar_std']:.3f} "
        f"(min {summary['uar_min']:.3f}) over {len(folds)} folds; written to {plan.output / 'crossval.json'}"
    )
    return validation
