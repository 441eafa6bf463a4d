"""``emoq datasets upload | list | show | delete``: labelled audio for training, through the public API.

``upload DIR`` reads DIR/manifest.csv, zips it with the files it names (nothing else of DIR is sent) and
prints the server's report: what was accepted per label, and each refused file with its code. Exit codes
as for the other client commands: 0 stored, 2 refused (a dataset that cannot be trained on), 3 server
unreachable, 4 not found.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import IO, Any

import httpx

from cli.client import (
    OK,
    REFUSED,
    ClientError,
    add_server_options,
    raise_for_problem,
    request,
    with_client,
)
from shared.datasets.manifest import MANIFEST_NAME, normalize_path, parse_manifest
from shared.errors import InvalidRequest


def register(subparsers: argparse._SubParsersAction) -> None:
    datasets = subparsers.add_parser(
        "datasets", help="upload, list, show and delete labelled audio for training"
    )
    commands = datasets.add_subparsers(dest="datasets_command", required=True, metavar="COMMAND")
    upload = add_server_options(commands.add_parser("upload", help="upload a folder with its manifest.csv"))
    upload.add_argument("folder", type=Path, help="a folder holding manifest.csv (path,label[,speaker])")
    upload.add_argument("--name", help="the dataset's name (default: the folder's)")
    upload.set_defaults(handler=with_client(_upload))
    listing = add_server_options(commands.add_parser("list", help="list your datasets, newest first"))
    listing.set_defaults(handler=with_client(_list))
    show = add_server_options(commands.add_parser("show", help="a dataset's labels, speakers and refusals"))
    show.add_argument("id", type=dataset_id)
    show.add_argument("--json", action="store_true", help="print the dataset as JSON, files included")
    show.set_defaults(handler=with_client(_show))
    delete = add_server_options(commands.add_parser("delete", help="delete a dataset and its audio"))
    delete.add_argument("id", type=dataset_id)
    delete.set_defaults(handler=with_client(_delete))


def dataset_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a dataset id (a UUID)") from None


def _upload(client: httpx.Client, args: argparse.Namespace) -> int:
    folder: Path = args.folder
    with tempfile.TemporaryFile() as archive:
        sent = zip_dataset(folder, archive)
        archive.seek(0)
        response = client.post(
            "/v1/datasets",
            files={"archive": (f"{folder.resolve().name}.zip", archive, "application/zip")},
            data={"name": args.name or folder.resolve().name},
        )
    if response.status_code == 422 and response.json().get("code") == "dataset_unusable":
        _print_unusable(response.json())
        return REFUSED
    dataset = raise_for_problem(response).json()
    print(dataset["id"], dataset["name"], f"{sent} files sent", sep="\t")
    _print_report(dataset)
    return OK


def zip_dataset(folder: Path, archive: IO[bytes]) -> int:
    """The manifest and every file it names that exists inside ``folder``, zipped into ``archive``; returns
    how many clips went in. Files it names that are missing are left for the server to report."""
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        raise ClientError(f"{folder} has no {MANIFEST_NAME}", REFUSED)
    try:
        rows = parse_manifest(manifest.read_text(encoding="utf-8"), source=str(manifest))
    except (InvalidRequest, UnicodeDecodeError) as error:
        raise ClientError(str(error), REFUSED) from error
    root = folder.resolve()
    names = {path for row in rows if (path := normalize_path(row.path)) is not None}
    clips = [name for name in sorted(names) if (root / name).resolve().is_relative_to(root)]
    clips = [name for name in clips if (root / name).is_file()]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(manifest, MANIFEST_NAME)
        for name in clips:
            bundle.write(root / name, name)
    return len(clips)


def _print_report(dataset: dict[str, Any]) -> None:
    print(
        f"{dataset['file_count']} files, {dataset['label_count']} labels, {dataset['speaker_count']} speakers,"
        f" {dataset['duration_s']:.1f} s"
    )
    for label in dataset["labels"]:
        print(f"  {label['label']:<12} {label['files']:>6} files {label['duration_s']:>9.1f} s")
    if dataset["refused"]:
        print(f"refused {len(dataset['refused'])}:")
        _print_refused(dataset["refused"], sys.stdout)


def _print_refused(refused: list[dict[str, Any]], stream: IO[str]) -> None:
    for item in refused:
        print(f"  {item['path']}\t{item['code']}\t{item['message']}", file=stream)


def _print_unusable(problem: dict[str, Any]) -> None:
    print(f"emoq: dataset_unusable: {problem.get('detail', '')}", file=sys.stderr)
    for reason in problem.get("reasons", []):
        print(f"  {reason['code']}: {reason['message']}", file=sys.stderr)
    if problem.get("refused"):
        print(f"refused {len(problem['refused'])}:", file=sys.stderr)
        _print_refused(problem["refused"], sys.stderr)


def _list(client: httpx.Client, args: argparse.Namespace) -> int:
    print("id", "name", "files", "labels", "speakers", "duration_s", "created_at", sep="\t")
    cursor = None
    while True:
        params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = request(client, "GET", "/v1/datasets", params=params).json()
        for item in page["items"]:
            print(
                item["id"],
                item["name"],
                item["file_count"],
                item["label_count"],
                item["speaker_count"],
                f"{item['duration_s']:.1f}",
                item["created_at"],
                sep="\t",
            )
        if not (cursor := page["next_cursor"]):
            return OK


def _show(client: httpx.Client, args: argparse.Namespace) -> int:
    dataset = request(client, "GET", f"/v1/datasets/{args.id}").json()
    if args.json:
        print(json.dumps(dataset, indent=2))
        return OK
    print(dataset["id"], dataset["name"], dataset["status"], dataset["created_at"], sep="\t")
    _print_report(dataset)
    speakers = ", ".join(f"{s['speaker']} ({s['files']})" for s in dataset["speakers"])
    print(f"speakers: {speakers or 'none named'}")
    return OK


def _delete(client: httpx.Client, args: argparse.Namespace) -> int:
    request(client, "DELETE", f"/v1/datasets/{args.id}")
    print("deleted", args.id, sep="\t")
    return OK
