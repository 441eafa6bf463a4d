"""An evaluation as one JSON object or as a report a person reads in a terminal."""

from __future__ import annotations

from worker.evaluation.runner import Evaluation
from worker.evaluation.scope import LabelScope


def calibration(
    evaluation: Evaluation, scope: LabelScope, model_labels: list[str], temperature: float
) -> dict:
    """15-bin ECE of the scores as reported (at the checkpoint's temperature) and uncalibrated (at 1)."""
    return {
        "temperature": temperature,
        "ece_uncalibrated": evaluation.calibration_error(model_labels, scope.labels, 1.0),
        "ece": evaluation.calibration_error(model_labels, scope.labels, temperature),
    }


def as_json(
    evaluation: Evaluation,
    scope: LabelScope,
    *,
    model: str,
    manifest: str,
    model_labels: list[str],
    temperature: float = 1.0,
) -> dict[str, object]:
    metrics = evaluation.metrics
    return {
        "model": model,
        "manifest": manifest,
        "n": metrics.n,
        "accuracy": metrics.accuracy,
        "uar": metrics.uar,
        "macro_f1": metrics.macro_f1,
        "labels": scope.labels,
        "restricted_to": scope.labels if scope.restricted else None,
        "dropped_labels": scope.dropped_labels,
        "note": scope_note(scope, model_labels),
        "per_class": {
            label: {"precision": c.precision, "recall": c.recall, "f1": c.f1, "support": c.support}
            for label, c in zip(scope.labels, metrics.per_class, strict=True)
        },
        "confusion": metrics.confusion.tolist(),
        "per_speaker": {
            speaker: {"n": m.n, "uar": m.uar, "accuracy": m.accuracy}
            for speaker, m in evaluation.per_speaker(scope.labels).items()
        },
        "calibration": calibration(evaluation, scope, model_labels, temperature) if metrics.n else None,
        "audio_seconds": evaluation.audio_seconds,
        "wall_seconds": evaluation.wall_seconds,
        "audio_seconds_per_second": evaluation.audio_seconds_per_second,
        "failed": [{"path": str(clip.path), "code": code} for clip, code in evaluation.failures],
        # Clip by clip, for error analysis, and to check the service against: a job on the same audio
        # and checkpoint reports these scores.
        "clips": [
            {
                "path": str(outcome.clip.path),
                "speaker": outcome.clip.speaker,
                "label": outcome.true_label,
                "predicted": outcome.predicted_label,
                "scores": outcome.scores,
            }
            for outcome in evaluation.outcomes
        ],
    }


def scope_note(scope: LabelScope, model_labels: list[str]) -> str | None:
    notes = []
    if scope.restricted:
        left_out = [label for label in model_labels if label not in scope.labels]
        notes.append(
            f"restricted to {len(scope.labels)} shared labels ({', '.join(scope.labels)}); the model's "
            f"{', '.join(left_out)} cannot win, so chance UAR is {1 / len(scope.labels):.3f}"
        )
    if scope.dropped_labels:
        notes.append(f"rows labelled {', '.join(scope.dropped_labels)} are not scored")
    return "; ".join(notes) or None


def as_text(
    evaluation: Evaluation,
    scope: LabelScope,
    *,
    model: str,
    model_labels: list[str],
    temperature: float = 1.0,
) -> str:
    metrics = evaluation.metrics
    width = max(len(label) for label in scope.labels) + 2
    lines = [f"model {model}: {metrics.n} clips, {evaluation.audio_seconds:.0f} s of audio"]
    note = scope_note(scope, model_labels)
    if note:
        lines.append(f"note: {note}")
    for clip, code in evaluation.failures:
        lines.append(f"failed: {clip.path} ({code})")
    lines += [
        "",
        f"UAR       {metrics.uar:.3f}",
        f"accuracy  {metrics.accuracy:.3f}",
        f"macro-F1  {metrics.macro_f1:.3f}",
        f"speed     {evaluation.audio_seconds_per_second:.0f} s of audio per second",
    ]
    if metrics.n:
        ece = calibration(evaluation, scope, model_labels, temperature)
        lines.append(
            f"ECE       {ece['ece']:.3f} at temperature {temperature:.3f} "
            f"({ece['ece_uncalibrated']:.3f} uncalibrated, 15 bins)"
        )
    per_speaker = evaluation.per_speaker(scope.labels)
    if len(per_speaker) > 1:
        lines += ["", "per speaker"]
        lines += [f"  {speaker}: UAR {m.uar:.3f} over {m.n} clips" for speaker, m in per_speaker.items()]
    lines += [
        "",
        f"{'label':<{width}}precision  recall     F1  support",
    ]
    lines += [
        f"{label:<{width}}{c.precision:9.3f} {c.recall:7.3f} {c.f1:6.3f} {c.support:8d}"
        for label, c in zip(scope.labels, metrics.per_class, strict=True)
    ]
    short = [label[:7] for label in scope.labels]
    lines += ["", "confusion (rows true, columns predicted)", " " * width + "".join(f"{s:>8}" for s in short)]
    lines += [
        f"{label:<{width}}" + "".join(f"{int(v):8d}" for v in row)
        for label, row in zip(scope.labels, metrics.confusion, strict=True)
    ]
    return "\n".join(lines)
