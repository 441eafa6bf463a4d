"""``emoq evaluate``: argument parsing, and the run from manifest to report.

Registration imports nothing heavy; torch and transformers load only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from worker.training.manifest import parse_list

if TYPE_CHECKING:
    from worker.evaluation.runner import Evaluation
    from worker.evaluation.scope import LabelScope
    from worker.inference import AudioClassifier


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a model on a labelled manifest through the worker's inference path",
        description="Decode and classify every clip of a manifest exactly as the worker does, then report "
        "accuracy, UAR, macro-F1, per-class figures, the confusion matrix and throughput.",
    )
    parser.add_argument("--model", help="checkpoint folder or hub id (default: the configured EMOQ_MODEL)")
    parser.add_argument("--manifest", type=Path, required=True, help="CSV: path,label,speaker")
    parser.add_argument(
        "--labels",
        help="comma-separated labels to score, DATA=MODEL to map one; other rows are dropped and the "
        "model chooses only among these (for cross-corpus tests)",
    )
    parser.add_argument("--speakers", help="comma-separated speakers to keep (default: all)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default: the configured one")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    parser.add_argument("--confusion-png", type=Path, help="also draw the confusion matrix to this PNG")
    parser.add_argument(
        "--fit-temperature",
        action="store_true",
        help="fit a calibration temperature on these clips (use speakers the model never trained on) and "
        "write it into the checkpoint's config.json as emoq_temperature; the report then shows ECE with it",
    )
    parser.set_defaults(handler=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from shared.errors import EmoQError

    try:
        return _evaluate(args)
    except EmoQError as error:
        # Bad input (unknown speaker, missing column ...) deserves a sentence, not a traceback.
        print(f"emoq evaluate: {error.message}", file=sys.stderr)
        return 2


def _evaluate(args: argparse.Namespace) -> int:
    from shared.config import get_settings
    from shared.errors import InvalidRequest
    from worker.evaluation.report import as_json, as_text, scope_note
    from worker.evaluation.runner import evaluate, load_classifier
    from worker.evaluation.scope import resolve_scope
    from worker.training.manifest import labels_of, read_manifest

    settings = get_settings()
    model = args.model or settings.model
    clips = read_manifest(args.manifest)
    speakers = parse_list(args.speakers)
    if speakers:
        missing = sorted(set(speakers) - {clip.speaker for clip in clips})
        if missing:
            raise InvalidRequest(f"speaker(s) not in the manifest: {', '.join(missing)}")
        clips = [clip for clip in clips if clip.speaker in speakers]

    classifier = load_classifier(
        model, device=args.device, revision=settings.model_revision if args.model is None else None
    )
    scope = resolve_scope(classifier.labels, labels_of(clips), parse_list(args.labels) or None)
    scored = scope.scored(clips)
    if not scored:
        raise InvalidRequest("no clip in the manifest carries a label the model is scored on")
    note = scope_note(scope, classifier.labels)
    if note and args.json:
        print(f"note: {note}", file=sys.stderr)

    evaluation = evaluate(
        classifier, scored, scope, max_seconds=settings.max_audio_seconds, progress=sys.stderr.isatty()
    )
    temperature = classifier.temperature
    if args.fit_temperature:
        temperature = _fit_and_store(evaluation, scope, classifier, Path(model))
    if args.confusion_png:
        from worker.evaluation.confusion_plot import save_confusion_png

        title = f"{classifier.model_id} on {args.manifest.parent.name}: UAR {evaluation.metrics.uar:.3f}"
        save_confusion_png(evaluation.metrics.confusion, scope.labels, args.confusion_png, title=title)
    if args.json:
        report = as_json(
            evaluation,
            scope,
            model=model,
            manifest=str(args.manifest),
            model_labels=classifier.labels,
            temperature=temperature,
        )
        print(json.dumps(report, indent=2))
    else:
        print(
            as_text(evaluation, scope, model=model, model_labels=classifier.labels, temperature=temperature)
        )
        if args.confusion_png:
            print(f"\nconfusion matrix drawn to {args.confusion_png}")
    return 0


def _fit_and_store(
    evaluation: Evaluation, scope: LabelScope, classifier: AudioClassifier, checkpoint: Path
) -> float:
    import numpy as np

    from shared.errors import InvalidRequest
    from worker.calibration import fit_temperature, store_temperature

    if not (checkpoint / "config.json").is_file():
        raise InvalidRequest(
            f"--fit-temperature writes into a local checkpoint folder; {checkpoint} is not one"
        )
    if scope.restricted:
        raise InvalidRequest("--fit-temperature needs every model label in play: drop --labels")
    true = np.array([classifier.labels.index(o.true_label) for o in evaluation.outcomes])
    temperature = fit_temperature([o.windows for o in evaluation.outcomes], true)
    store_temperature(checkpoint, temperature)
    print(f"temperature {temperature:.4f} written to {checkpoint / 'config.json'}", file=sys.stderr)
    return temperature
