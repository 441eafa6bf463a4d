"""``emoq``: one console script, many subcommands.

Each module listed here exposes ``register(subparsers)``. Registration must stay cheap: heavy imports
(torch, transformers, the web stack) happen inside the handlers, so ``emoq --help`` answers at once and
the API-only image can run ``emoq migrate`` without the worker's dependencies.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "cli.serve",
    "cli.client",
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = args.handler(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
