"""``emoq models list | show | promote | demote | delete``: the models a key may ask for, through the API.

``list`` prints the served models (EMOQ_MODELS) and the key's registered versions, one per line, the one
its submissions use when they name no model marked ``default``. Exit codes as for the other client
commands: 0 done, 2 refused (a version a job still needs), 3 server unreachable, 4 not found.
"""

from __future__ import annotations

import argparse
import json
import uuid

import httpx

from cli.client import OK, add_server_options, request, with_client


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="list the served models and your registered versions")
    commands = models.add_subparsers(dest="models_command", required=True, metavar="COMMAND")
    listing = add_server_options(commands.add_parser("list", help="served models and your versions"))
    listing.set_defaults(handler=with_client(_list))
    show = add_server_options(commands.add_parser("show", help="a version's evaluation and training data"))
    show.add_argument("id", type=version_id)
    show.set_defaults(handler=with_client(_show))
    promote = add_server_options(
        commands.add_parser("promote", help="make a version your default for submissions naming no model")
    )
    promote.add_argument("id", type=version_id)
    promote.set_defaults(handler=with_client(_promote))
    demote = add_server_options(
        commands.add_parser(
            "demote", help="no default version: submissions naming no model use the served one"
        )
    )
    demote.set_defaults(handler=with_client(_demote))
    delete = add_server_options(commands.add_parser("delete", help="delete a version no job still needs"))
    delete.add_argument("id", type=version_id)
    delete.set_defaults(handler=with_client(_delete))


def version_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a model version id (a UUID)") from None


def _list(client: httpx.Client, args: argparse.Namespace) -> int:
    listed = request(client, "GET", "/v1/models").json()
    print("model", "kind", "name", "labels", "uar", "created_at", "default", sep="\t")
    for model in listed["models"]:
        identity = model["id"] if model["served"] else "(no worker yet)"
        default = "default" if model["default"] else ""
        print(model["name"], "served", identity, len(model["labels"]), "", "", default, sep="\t")
    for version in listed.get("versions", []):
        uar = version["metrics"].get("uar")
        print(
            version["id"],
            "version",
            version["name"],
            len(version["labels"]),
            "" if uar is None else f"{uar:.3f}",
            version["created_at"],
            "default" if version["default"] else "",
            sep="\t",
        )
    return OK


def _show(client: httpx.Client, args: argparse.Namespace) -> int:
    print(json.dumps(request(client, "GET", f"/v1/models/{args.id}").json(), indent=2))
    return OK


def _promote(client: httpx.Client, args: argparse.Namespace) -> int:
    version = request(client, "POST", f"/v1/models/{args.id}/promote").json()
    print(version["id"], version["name"], "default", sep="\t")
    return OK


def _demote(client: httpx.Client, args: argparse.Namespace) -> int:
    request(client, "DELETE", "/v1/models/default")
    print("no default version: submissions naming no model use the served default")
    return OK


def _delete(client: httpx.Client, args: argparse.Namespace) -> int:
    request(client, "DELETE", f"/v1/models/{args.id}")
    print("deleted", args.id, sep="\t")
    return OK
