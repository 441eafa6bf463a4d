"""``emoq webhooks secret [--rotate]``: the server-wide webhook secret of loopback development."""

from __future__ import annotations

import argparse
import sys


def register(webhooks: argparse.ArgumentParser) -> None:
    actions = webhooks.add_subparsers(dest="action", metavar="ACTION")
    secret = actions.add_parser(
        "secret", help="print the development webhook secret (make run), or replace it with --rotate"
    )
    secret.add_argument("--rotate", action="store_true", help="make a new secret; the old one stops signing")
    secret.set_defaults(handler=_secret)


def _secret(args: argparse.Namespace) -> int:
    from shared.config import get_settings
    from shared.webhooks.server_secret import (
        development_secret,
        development_secret_path,
        rotate_development_secret,
    )

    settings = get_settings()
    # Not the server's full test (auth disabled on loopback): this shell need not share `make run`'s
    # environment, only its data folder.
    if settings.env == "production" or settings.webhook_secret is not None:
        print(
            "no development webhook secret here: EMOQ_WEBHOOK_SECRET is set, or EMOQ_ENV=production "
            "(with API keys, each key reads its own: GET /v1/webhook-secret)",
            file=sys.stderr,
        )
        return 1
    secret = rotate_development_secret(settings) if args.rotate else development_secret(settings)[0]
    # The secret alone on stdout, so `SECRET=$(emoq webhooks secret)` captures it.
    print(secret)
    print(f"kept in {development_secret_path(settings).resolve()}", file=sys.stderr)
    return 0
