"""``emoq``: one console script, many subcommands.

Each module listed here exposes ``register(subparsers)``. Registration must stay cheap: heavy imports
(torch, transformers, the web stack) happen inside the handlers, so ``emoq --help`` answers at once and
the API-only image can run ``emoq migrate`` without the worker's dependencies.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

COMMAND_MODULES = (
    "cli.serve",
    "cli.client",
    "cli.datasets",
    "cli.models",
    "cli.trainings",
    "cli.keys",
    "cli.train",
    "cli.evaluate",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emoq", description="EmoQ speech-emotion recognition service")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # A slim install (the API image) lacks the worker's extras; its commands are simply absent.
            if exc.name and exc.name.split(".")[0] in {"torch", "transformers"}:
                continue
            raise
        module.register(subparsers)
    return parser


# What a shell reports for a command killed by SIGPIPE, as `cat` or `grep` would be in `… | head`.
BROKEN_PIPE_EXIT = 128 + signal.SIGPIPE


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        result = args.handler(args)
        # Flushed here, not at exit, so a reader that went away is noticed while it can be handled.
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (`head`, `less` quit early) wants no more; Python would flush again at exit and
        # complain, so what is left goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_EXIT
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
