"""``emoq train``: arguments in, a training plan out; the run itself is ``worker.training.run``.

Registration imports nothing heavy; torch and transformers load only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from worker.training.manifest import parse_list


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
    start.add_argument(
        "--config-preset",
        # PRESETS' names, written out: importing them would load torch for every `emoq` command.
        choices=["small", "filterbank"],
        help="train from scratch (default: small); filterbank starts its first layers as a mel-spaced filterbank",
    )
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
    held_out = parser.add_mutually_exclusive_group()
    held_out.add_argument("--test-speakers", default="", help="comma-separated speakers held out for testing")
    held_out.add_argument(
        "--fold",
        action="append",
        default=[],
        metavar="SPEAKERS",
        help="leave-speakers-out cross-validation: comma-separated speakers held out together; repeat once "
        "per fold. Trains one model per fold into OUTPUT/fold-K for exactly --epochs, scores each on its "
        "held-out speakers and writes OUTPUT/crossval.json (mean and spread of UAR, confusion, ECE)",
    )
    parser.add_argument("--epochs", type=int, default=60, help="maximum epochs (default: 60)")
    parser.add_argument("--patience", type=int, default=15, help="epochs without improvement before stopping")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--crops-per-clip", type=int, default=2, help="random crops of each clip per epoch")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--window-seconds",
        type=float,
        default=1.5,
        help="training crop length, and the window the service scores (default: 1.5)",
    )
    parser.add_argument(
        "--hop-seconds", type=float, default=1.0, help="window hop at inference (default: 1.0)"
    )
    parser.add_argument(
        "--speed-range",
        type=_speed_range,
        default=0.10,
        help="each training crop is played at a speed drawn from [1 - R, 1 + R]: its pitch and formants "
        "move as another speaker's would, and its tempo with them (default: 0.10)",
    )
    parser.add_argument(
        "--tempo-range",
        type=_speed_range,
        help="draw each crop's tempo on its own from [1 - T, 1 + T] (a phase vocoder), so that "
        "--speed-range moves only pitch and formants (default: the tempo moves with the speed)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument(
        "--trim-db",
        type=float,
        help="trim leading/trailing audio this many dB below the loudest frame, in training and (stored in "
        "the checkpoint) at inference (default: no trimming)",
    )
    parser.add_argument(
        "--normalize",
        choices=["peak"],
        help="scale each recording to full-scale peak after trimming, in training and at inference",
    )
    parser.set_defaults(handler=run_train)


def _speed_range(value: str) -> float:
    """A range R of factors [1 - R, 1 + R] that neither stops nor reverses the audio."""
    speed_range = float(value)
    if not 0.0 <= speed_range < 0.5:
        raise argparse.ArgumentTypeError("must be at least 0 and below 0.5")
    return speed_range


def run_train(args: argparse.Namespace) -> int:
    from shared.errors import EmoQError

    try:
        return _train(args)
    except EmoQError as error:
        # Bad input (unknown speaker, missing column ...) deserves a sentence, not a traceback.
        print(f"emoq train: {error.message}", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    from worker.conditioning import Conditioning
    from worker.training.augment import AugmentSettings
    from worker.training.run import TrainingPlan, train_checkpoint
    from worker.training.trainer import TrainSettings

    plan = TrainingPlan(
        manifest=args.manifest,
        output=args.output,
        settings=TrainSettings(
            epochs=args.epochs,
            batch_size=args.batch_size,
            crops_per_clip=args.crops_per_clip,
            learning_rate=args.learning_rate,
            patience=args.patience,
            seed=args.seed,
            augment=AugmentSettings(
                crop_seconds=args.window_seconds, speed_range=args.speed_range, tempo_range=args.tempo_range
            ),
        ),
        init_from=args.init_from,
        config_preset=args.config_preset,
        config_overrides=dict(_parse_override(item) for item in args.config_override),
        validation_speakers=[] if args.val_speakers == "none" else (parse_list(args.val_speakers) or None),
        test_speakers=parse_list(args.test_speakers),
        device=args.device,
        conditioning=Conditioning(trim_db=args.trim_db, normalize=args.normalize)
        if (args.trim_db is not None or args.normalize)
        else None,
        hop_seconds=args.hop_seconds,
        command=command_line(args),
    )
    if args.fold:
        from worker.training.crossval import cross_validate

        cross_validate(plan, [parse_list(fold) for fold in args.fold])
    else:
        train_checkpoint(plan)
    return 0


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
    for fold in args.fold:
        words += ["--fold", fold]
    options = ("epochs", "patience", "batch_size", "crops_per_clip", "learning_rate", "window_seconds")
    for option in (*options, "hop_seconds", "speed_range", "seed", "device"):
        words += ["--" + option.replace("_", "-"), str(getattr(args, option))]
    for option in ("tempo_range", "trim_db", "normalize"):
        if getattr(args, option) is not None:
            words += ["--" + option.replace("_", "-"), str(getattr(args, option))]
    return shlex.join(words)
