"""``emoq keys create | list | revoke``: the API keys clients send as ``Authorization: Bearer <key>``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")


SCOPES = ("jobs:read", "jobs:write", "admin")  # shared.auth.scopes.Scope, which registration must not import


def register(subparsers: argparse._SubParsersAction) -> None:
    keys = subparsers.add_parser("keys", help="create, list, revoke API keys; reseal their webhook secrets")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="create a key and print it with its webhook secret (the only time the key is shown)"
    )
    create.add_argument("--name", required=True, help="who or what the key is for, e.g. 'billing-service'")
    create.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        dest="scopes",
        help="what the key may do; repeat for several (default: all). jobs:read for dashboards",
    )
    create.set_defaults(handler=_create)
    reseal = actions.add_parser(
        "reseal", help="seal every webhook secret under the first EMOQ_SECRET_KEY, so older keys can go"
    )
    reseal.set_defaults(handler=_reseal)
    listing = actions.add_parser("list", help="list keys: id, name, prefix, scopes, created, revoked")
    listing.set_defaults(handler=_list)
    revoke = actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key", metavar="KEY_ID_OR_PREFIX", help="the key's id or its prefix (emoq_…)")
    revoke.set_defaults(handler=_revoke)


def _create(args: argparse.Namespace) -> int:
    from shared.auth import service
    from shared.auth.scopes import EVERY_SCOPE, Scope

    name = args.name.strip()
    if not name or len(name) > 100:
        print("the name must be 1 to 100 characters", file=sys.stderr)
        return 2
    scopes = frozenset(Scope(s) for s in args.scopes) if args.scopes else EVERY_SCOPE
    created = _in_session(lambda session: service.create_key(session, name, scopes))
    if created is None:
        return 1
    # The key alone on stdout, so `KEY=$(emoq keys create --name …)` captures it; the rest on stderr.
    print(
        f"created key {created.row.prefix}… '{created.row.name}' (id {created.row.id}, "
        f"scopes {created.row.scopes})",
        file=sys.stderr,
    )
    print(created.key)
    print("store it now: only its hash is kept, it cannot be shown again", file=sys.stderr)
    print(
        f"its webhook secret: {created.webhook_secret}\n"
        "  (verify this key's webhooks with it; GET /v1/webhook-secret returns it to the key, scope admin)",
        file=sys.stderr,
    )
    return 0


def _reseal(_: argparse.Namespace) -> int:
    from shared.webhooks.secrets import reseal_all

    count = _in_session(reseal_all)
    if count is None:
        return 1
    print(f"resealed the webhook secrets of {count} keys under the first EMOQ_SECRET_KEY")
    return 0


def _list(_: argparse.Namespace) -> int:
    from shared.auth import service

    rows = _in_session(
        lambda session: [
            (
                str(k.id),
                k.name,
                k.prefix + "…",
                ",".join(k.scopes.split()),
                _when(k.created_at),
                _when(k.revoked_at) or "-",
            )
            for k in service.list_keys(session)
        ]
    )
    if rows is None:
        return 1
    header = ("ID", "NAME", "PREFIX", "SCOPES", "CREATED", "REVOKED")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from shared.auth import service
    from shared.errors import NotFound

    try:
        outcome = _in_session(lambda session: service.revoke_key(session, args.key))
    except NotFound as exc:
        print(exc.message, file=sys.stderr)
        return 1
    if outcome is None:
        return 1
    key, revoked_now = outcome
    state = "revoked" if revoked_now else f"was already revoked on {_when(key.revoked_at)}"
    print(f"key {key.prefix}… '{key.name}' (id {key.id}) {state}")
    return 0


def _in_session(work: Callable[[Session], T]) -> T | None:
    """Run ``work`` in a committed session; None, with a hint, when the schema is not there yet."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from shared.db import session_scope

    try:
        with session_scope() as session:
            return work(session)
    except (OperationalError, ProgrammingError) as exc:
        # The exception's text may hold the database URL or SQL; its kind is enough to act on.
        print(
            f"could not use the database ({type(exc.orig).__name__}); has `emoq migrate` run?",
            file=sys.stderr,
        )
        return None


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else ""
