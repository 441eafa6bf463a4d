"""``emoq train``: argument parsing and the run from manifest to saved checkpoint.

Registration imports nothing heavy; torch and transformers load only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from worker.training.manifest import Clip, parse_list

if TYPE_CHECKING:
    from worker.training.trainer import LabelledAudio


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an emotion classifier on a manifest, split by speaker",
        description="Train a Wav2Vec2 audio classifier on a manifest CSV (path,label,speaker) and save a "
        "Hugging Face checkpoint with a model card.",
    )
    parser.add_argument("--manifest", type=Path, required=True, help="CSV; paths relative to its folder")
    parser.add_argument("--output", type=Path, required=True, help="checkpoint folder to write")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--init-from", type=Path, help="local pretrained Wav2Vec2 checkpoint folder")
    start.add_argument("--config-preset", choices=["small"], help="train from scratch (default: small)")
    parser.add_argument(
        "--config-override",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="change one preset config value, e.g. hidden_size=32 (repeatable)",
    )
    parser.add_argument(
        "--val-speakers",
        help="comma-separated validation speakers; 'none' trains on every non-test speaker for exactly "
        "--epochs epochs (default: about 20%% of them, drawn with --seed)",
    )
    parser.add_argument("--test-speakers", default="", help="comma-separated speakers held out for testing")
    parser.add_argument("--epochs", type=int, default=60, help="maximum epochs (default: 60)")
    parser.add_argument("--patience", type=int, default=15, help="epochs without improvement before stopping")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--crops-per-clip", type=int, default=2, help="random crops of each clip per epoch")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.set_defaults(handler=run_train)


def run_train(args: argparse.Namespace) -> int:
    from shared.errors import EmoQError

    try:
        return _train(args)
    except EmoQError as error:
        # Bad input (unknown speaker, missing column ...) deserves a sentence, not a traceback.
        print(f"emoq train: {error.message}", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    import torch

    from worker.inference import resolve_device
    from worker.training.architecture import SAMPLING_RATE, build_model, feature_extractor
    from worker.training.card import CardFacts, describe_architecture, render_card
    from worker.training.manifest import labels_of, read_manifest
    from worker.training.splits import split_by_speaker
    from worker.training.trainer import TrainSettings, seed_everything, train
    from worker.training.validation import score_clips

    started = time.monotonic()
    settings = TrainSettings(
        epochs=args.epochs,
        batch_size=args.batch_size,
        crops_per_clip=args.crops_per_clip,
        learning_rate=args.learning_rate,
        patience=args.patience,
        seed=args.seed,
    )
    seed_everything(args.seed)
    clips = read_manifest(args.manifest)
    labels = labels_of(clips)
    split = split_by_speaker(
        clips,
        validation_speakers=[] if args.val_speakers == "none" else (parse_list(args.val_speakers) or None),
        test_speakers=parse_list(args.test_speakers),
        seed=args.seed,
    )
    for part in ("train", "validation", "test"):
        print(f"{part}: {len(getattr(split, part))} clips, speakers {', '.join(split.speakers(part)) or '-'}")
    train_set, validation_set, test_set = (
        _decode(getattr(split, part), labels, SAMPLING_RATE) for part in ("train", "validation", "test")
    )

    overrides = dict(_parse_override(item) for item in args.config_override)
    model = build_model(labels, preset=args.config_preset, init_from=args.init_from, **overrides)
    extractor = feature_extractor()
    device = resolve_device(args.device)
    result = train(
        model, extractor, train_set, validation_set, settings, device=device, sampling_rate=SAMPLING_RATE
    )
    for part, dataset in (("validation", validation_set), ("test", test_set)):
        if dataset is not None:
            metrics = score_clips(model, extractor, dataset.waveforms, dataset.label_ids, device=device)
            setattr(result, part, metrics)
            print(
                f"{part}: UAR {metrics.uar:.3f}  accuracy {metrics.accuracy:.3f}  F1 {metrics.macro_f1:.3f}"
            )

    args.output.mkdir(parents=True, exist_ok=True)
    model.to(torch.device("cpu")).save_pretrained(args.output)
    extractor.save_pretrained(args.output)
    start = str(args.init_from) if args.init_from else f"config preset '{args.config_preset or 'small'}'"
    facts = CardFacts(
        model_name=args.output.name,
        location=str(args.output),
        manifest=args.manifest,
        labels=labels,
        split=split,
        settings=settings,
        result=result,
        initialised_from=start
        + (f" with {overrides}" if overrides else "")
        + ("" if args.init_from else ", random weights"),
        parameters=sum(p.numel() for p in model.parameters()),
        architecture=describe_architecture(model.config),
        device=str(device),
        command=command_line(args),
        minutes=(time.monotonic() - started) / 60,
    )
    (args.output / "README.md").write_text(render_card(facts), encoding="utf-8")
    print(f"saved {args.output}")
    return 0


def _decode(clips: list[Clip], labels: list[str], sampling_rate: int) -> LabelledAudio | None:
    """The clips as waveforms in memory with their label indices; None for an empty part."""
    from shared.audio import decode_to_mono
    from shared.config import get_settings
    from worker.training.trainer import LabelledAudio

    if not clips:
        return None
    max_seconds = get_settings().max_audio_seconds
    # The service's own decoder, so training sees exactly the samples inference will see.
    waveforms = [decode_to_mono(c.path, target_rate=sampling_rate, max_seconds=max_seconds) for c in clips]
    return LabelledAudio(waveforms, [labels.index(c.label) for c in clips])


def _parse_override(item: str) -> tuple[str, object]:
    key, sep, value = item.partition("=")
    if not sep:
        raise SystemExit(f"--config-override expects KEY=VALUE, got {item!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def command_line(args: argparse.Namespace) -> str:
    """The run as one command with every setting spelled out, defaults included, for the model card."""
    words = ["emoq", "train", "--manifest", str(args.manifest), "--output", str(args.output)]
    if args.init_from:
        words += ["--init-from", str(args.init_from)]
    else:
        words += ["--config-preset", args.config_preset or "small"]
    for item in args.config_override:
        words += ["--config-override", item]
    if args.val_speakers:
        words += ["--val-speakers", args.val_speakers]
    if args.test_speakers:
        words += ["--test-speakers", args.test_speakers]
    for option in ("epochs", "patience", "batch_size", "crops_per_clip", "learning_rate", "seed", "device"):
        words += ["--" + option.replace("_", "-"), str(getattr(args, option))]
    return shlex.join(words)
