"""``emoq trainings start | watch | show | list | cancel``: custom models trained on your datasets, through
the public API. ``watch`` prints each epoch as it ends and, at the end, the held-out evaluation. Exit codes
as for the other client commands: 0 succeeded (or done), 1 the training failed or was cancelled,
2 refused, 3 server unreachable, 4 not found."""

from __future__ import annotations

import argparse
import json
import time
import uuid
from typing import Any

import httpx

from cli.client import FINAL, JOB_FAILED, OK, POLL_SECONDS, add_server_options, request, with_client


def register(subparsers: argparse._SubParsersAction) -> None:
    trainings = subparsers.add_parser(
        "trainings", help="train models on your datasets; follow and cancel them"
    )
    commands = trainings.add_subparsers(dest="trainings_command", required=True, metavar="COMMAND")
    start = add_server_options(commands.add_parser("start", help="queue a training of a dataset"))
    start.add_argument("dataset", type=uuid_argument, help="the dataset's id (emoq datasets list)")
    start.add_argument("--name", help="the model's name (default: the dataset's)")
    start.add_argument(
        "--base-model", help="fine-tune a served model (its name) or one of your model versions (its id)"
    )
    start.add_argument("--epochs", type=int, help="default: the server's EMOQ_TRAINING_DEFAULT_EPOCHS")
    start.add_argument("--batch-size", type=int)
    start.add_argument("--learning-rate", type=float)
    start.add_argument("--seed", type=int)
    start.add_argument(
        "--test-speakers", help="comma-separated speakers held out for the evaluation (default: about 20%%)"
    )
    start.add_argument("--webhook-url", help="POSTed training.succeeded or training.failed at the end")
    start.add_argument("--watch", action="store_true", help="then follow it to the end, as `watch` does")
    start.set_defaults(handler=with_client(_start))
    watch = add_server_options(
        commands.add_parser("watch", help="print epochs as they end, then the evaluation")
    )
    watch.add_argument("id", type=uuid_argument)
    watch.set_defaults(handler=with_client(_watch))
    show = add_server_options(commands.add_parser("show", help="a training's status, epochs and evaluation"))
    show.add_argument("id", type=uuid_argument)
    show.add_argument("--json", action="store_true", help="print the training as JSON")
    show.set_defaults(handler=with_client(_show))
    listing = add_server_options(commands.add_parser("list", help="list your trainings, newest first"))
    listing.set_defaults(handler=with_client(_list))
    cancel = add_server_options(commands.add_parser("cancel", help="cancel a queued or running training"))
    cancel.add_argument("id", type=uuid_argument)
    cancel.set_defaults(handler=with_client(_cancel))


def uuid_argument(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a UUID)") from None


def _start(client: httpx.Client, args: argparse.Namespace) -> int:
    options = {
        "name": args.name,
        "base_model": args.base_model,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "webhook_url": args.webhook_url,
        "test_speakers": [s.strip() for s in args.test_speakers.split(",") if s.strip()]
        if args.test_speakers
        else None,
    }
    body = {"dataset_id": args.dataset} | {key: value for key, value in options.items() if value is not None}
    training = request(client, "POST", "/v1/trainings", json=body).json()
    params = training["params"]
    print(
        training["id"],
        training["status"],
        f"{params['epochs']} epochs",
        f"held out: {', '.join(params['test_speakers'])}",
        sep="\t",
    )
    return _follow(client, training["id"]) if args.watch else OK


def _watch(client: httpx.Client, args: argparse.Namespace) -> int:
    return _follow(client, args.id)


def _follow(client: httpx.Client, training_id: str) -> int:
    """Each epoch once, as it ends; a restarted training (its worker died) starts its epochs again."""
    printed, status = 0, None
    while True:
        training = request(client, "GET", f"/v1/trainings/{training_id}").json()
        if training["status"] != status:
            status = training["status"]
            print(f"status {status}", flush=True)
        epochs = training["epochs"]
        if len(epochs) < printed:
            print("restarted from scratch", flush=True)
            printed = 0
        for epoch in epochs[printed:]:
            print(_epoch_line(epoch), flush=True)
        printed = len(epochs)
        if status in FINAL:
            _print_end(training)
            return OK if status == "succeeded" else JOB_FAILED
        time.sleep(POLL_SECONDS)


def _epoch_line(epoch: dict[str, Any]) -> str:
    uar = epoch["validation_uar"]
    return (
        f"epoch {epoch['epoch']:3d}  loss {epoch['loss']:.4f}  val UAR {'-' if uar is None else f'{uar:.3f}'}"
    )


def _print_end(training: dict[str, Any]) -> None:
    if training["error"]:
        print(f"{training['error']['code']}: {training['error']['message']}")
    evaluation = training["evaluation"]
    if evaluation:
        print(
            f"held-out speakers {', '.join(evaluation['speakers'])}: {evaluation['n']} clips, "
            f"UAR {evaluation['uar']:.3f}  accuracy {evaluation['accuracy']:.3f}  macro-F1 "
            f"{evaluation['macro_f1']:.3f}"
        )
        for label, scores in evaluation["per_class"].items():
            print(
                f"  {label:<12} precision {scores['precision']:.3f}  recall {scores['recall']:.3f}  "
                f"F1 {scores['f1']:.3f}  n {scores['support']}"
            )
        print(f"confusion matrix: {training['confusion_url']}")
    if training["model_version_id"]:
        print(f"model version {training['model_version_id']}")


def _show(client: httpx.Client, args: argparse.Namespace) -> int:
    training = request(client, "GET", f"/v1/trainings/{args.id}").json()
    if args.json:
        print(json.dumps(training, indent=2))
        return OK
    print(training["id"], training["status"], f"{training['progress']:.0%}", training["created_at"], sep="\t")
    for epoch in training["epochs"]:
        print(_epoch_line(epoch))
    _print_end(training)
    return OK


def _list(client: httpx.Client, args: argparse.Namespace) -> int:
    print("id", "status", "progress", "dataset_id", "model_version_id", "created_at", sep="\t")
    cursor = None
    while True:
        params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = request(client, "GET", "/v1/trainings", params=params).json()
        for item in page["items"]:
            print(
                item["id"],
                item["status"],
                f"{item['progress']:.0%}",
                item["dataset_id"] or "-",
                item["model_version_id"] or "-",
                item["created_at"],
                sep="\t",
            )
        if not (cursor := page["next_cursor"]):
            return OK


def _cancel(client: httpx.Client, args: argparse.Namespace) -> int:
    training = request(client, "DELETE", f"/v1/trainings/{args.id}").json()
    print(training["id"], training["status"], sep="\t")
    return OK
