"""An evaluation as one JSON object or as a report a person reads in a terminal."""

from __future__ import annotations

from worker.evaluation.runner import Evaluation
from worker.evaluation.scope import LabelScope


def as_json(
    evaluation: Evaluation, scope: LabelScope, *, model: str, manifest: str, model_labels: list[str]
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
        "audio_seconds": evaluation.audio_seconds,
        "wall_seconds": evaluation.wall_seconds,
        "audio_seconds_per_second": evaluation.audio_seconds_per_second,
        "failed": [{"path": str(clip.path), "code": code} for clip, code in evaluation.failures],
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


def as_text(evaluation: Evaluation, scope: LabelScope, *, model: str, model_labels: list[str]) -> str:
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
