"""A dataset upload turned into checked clips in storage: received into a scratch folder (a zip, or files
with a manifest), each file the manifest names unpacked and probed there, and only the accepted clips
copied into storage, each under its own key. A dataset refused as a whole leaves nothing in storage."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from api.submission import ENVELOPE_BYTES
from api.uploads import ReceivedFile, ReceivedForm, receive_form
from shared.audio import probe
from shared.config import Settings
from shared.datasets.archive import ArchiveLimits, open_archive
from shared.datasets.checks import WantedClip, match_rows, require_trainable
from shared.datasets.manifest import MANIFEST_NAME, parse_manifest
from shared.datasets.refusals import Refusal, unusable
from shared.datasets.service import NewClip, NewDataset
from shared.errors import EmoQError, InvalidRequest, UploadTooLarge
from shared.storage import Storage, StoredBlob, store_file
from shared.storage.local import LocalStorage

FILE_FIELDS = frozenset({"archive", "files", "manifest"})
# A manifest row is a path, a label and a speaker: far less than this on average.
MANIFEST_BYTES_PER_FILE = 1024


@dataclass(frozen=True)
class _Accepted:
    wanted: WantedClip
    local: Path
    duration_s: float | None


async def receive_dataset(
    request: Request, settings: Settings, storage: Storage, scratch: Path
) -> NewDataset:
    """Everything the request sent lands in ``scratch`` first (the caller removes it afterwards)."""
    if int(request.headers.get("content-length") or 0) > settings.max_dataset_bytes + ENVELOPE_BYTES:
        raise UploadTooLarge(
            f"the upload exceeds {settings.max_dataset_bytes} bytes", code="dataset_too_large"
        )
    received = LocalStorage(scratch / "received")
    form = await receive_form(
        request,
        received,
        new_key=lambda: uuid.uuid4().hex,
        max_file_bytes=settings.max_dataset_bytes,
        file_fields=FILE_FIELDS,
        max_files=settings.max_dataset_files + 1,
        max_field_bytes=manifest_limit(settings),
        max_total_file_bytes=settings.max_dataset_bytes,
        total_too_large_code="dataset_too_large",
    )
    return await run_in_threadpool(_check_and_store, form, received, scratch, settings, storage)


def manifest_limit(settings: Settings) -> int:
    return MANIFEST_BYTES_PER_FILE * settings.max_dataset_files


def _check_and_store(
    form: ReceivedForm, received: LocalStorage, scratch: Path, settings: Settings, storage: Storage
) -> NewDataset:
    archives = [f for f in form.files if f.field == "archive"]
    files = [f for f in form.files if f.field == "files"]
    if archives and files:
        raise InvalidRequest("send a zip as archive or files with a manifest, not both", code="mixed_upload")
    if len(archives) > 1:
        raise InvalidRequest("send one archive", code="too_many_archives")
    name = (form.fields.get("name") or "").strip()
    if archives:
        accepted, refused = _check_archive(_blob_path(received, archives[0].blob), scratch, settings)
        name = name or PurePosixPath(archives[0].filename or "").stem
    else:
        sources, duplicates = _uploaded_files(files, received)
        accepted, refused = _check(_manifest_text(form, received), sources, settings, duplicates)
    return NewDataset(
        name=(name or "dataset")[:255], clips=_store(accepted, storage, settings), refused=refused
    )


def _check_archive(path: Path, scratch: Path, settings: Settings) -> tuple[list[_Accepted], list[Refusal]]:
    """A zip's entries are unpacked one at a time, only those the manifest names, under new names."""
    limits = ArchiveLimits(
        max_entries=settings.max_dataset_files + 1,
        max_total_bytes=settings.max_dataset_bytes,
        max_ratio=settings.max_archive_ratio,
        max_manifest_bytes=manifest_limit(settings),
    )
    unpacked = scratch / "unpacked"
    unpacked.mkdir()
    with open_archive(path, limits) as archive:

        def unpack(entry: str) -> Path:
            target = unpacked / uuid.uuid4().hex
            archive.extract(entry, target, max_bytes=settings.max_upload_bytes)
            return target

        sources = {entry: partial(unpack, entry) for entry in archive.files}
        strays = [
            Refusal(name, "not_in_manifest", "outside the manifest's folder") for name in archive.strays
        ]
        return _check(archive.manifest_text, sources, settings, strays)


def _blob_path(received: LocalStorage, blob: StoredBlob | None) -> Path:
    if blob is None:
        raise InvalidRequest("the upload is empty", code="empty_upload")
    # A local store hands out the stored file itself, so the path outlives the context.
    with received.local_path(blob.key) as path:
        return path


def _uploaded_files(
    files: list[ReceivedFile], received: LocalStorage
) -> tuple[dict[str, Callable[[], Path]], list[Refusal]]:
    """Files sent one by one, by their file name (the manifest's paths name them)."""
    sources: dict[str, Callable[[], Path]] = {}
    refused: list[Refusal] = []
    for upload in files:
        name = upload.filename or "upload"
        if name in sources:
            refused.append(Refusal(name, "duplicate_file", "another file of the upload has the same name"))
            continue
        path = _blob_path(received, upload.blob)
        sources[name] = lambda path=path: path
    return sources, refused


def _manifest_text(form: ReceivedForm, received: LocalStorage) -> str:
    """The manifest as a text field (``-F manifest=<manifest.csv``) or as a file (``-F manifest=@…``)."""
    parts = [f for f in form.files if f.field == "manifest"]
    if "manifest" in form.fields:
        return form.fields["manifest"]
    if not parts:
        raise unusable("no_manifest", "send the manifest as a manifest part, or a zip holding manifest.csv")
    try:
        return _blob_path(received, parts[0].blob).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise unusable("invalid_manifest", f"{MANIFEST_NAME} is not UTF-8") from exc


def _check(
    manifest_text: str, sources: dict[str, Callable[[], Path]], settings: Settings, refused: list[Refusal]
) -> tuple[list[_Accepted], list[Refusal]]:
    """Match, unpack and probe what the manifest names; ``refused`` holds what was refused before."""
    try:
        rows = parse_manifest(manifest_text)
    except InvalidRequest as exc:
        raise unusable("invalid_manifest", exc.message) from exc
    matched = match_rows(rows, sources.keys(), max_files=settings.max_dataset_files)
    refused = refused + matched.refused
    accepted: list[_Accepted] = []
    for wanted in matched.wanted:
        try:
            local = sources[wanted.path]()
            if local.stat().st_size == 0:
                raise InvalidRequest("the file is empty", code="empty_upload")
            if local.stat().st_size > settings.max_upload_bytes:
                raise InvalidRequest(
                    f"the file exceeds the limit of {settings.max_upload_bytes} bytes",
                    code="upload_too_large",
                )
            info = probe(local, max_seconds=settings.max_audio_seconds)
        except EmoQError as exc:
            refused.append(Refusal(wanted.path, exc.code, exc.message))
            continue
        accepted.append(_Accepted(wanted, local, info.duration_s))
    require_trainable(
        [clip.wanted.label for clip in accepted],
        matched.labels,
        refused,
        min_per_label=settings.dataset_min_files_per_label,
    )
    return accepted, refused


def _store(accepted: list[_Accepted], storage: Storage, settings: Settings) -> list[NewClip]:
    """Each accepted clip copied into storage under a new key; on any failure none of them stays."""
    stored: list[NewClip] = []
    try:
        for clip in accepted:
            blob = store_file(storage, uuid.uuid4().hex, clip.local, max_bytes=settings.max_upload_bytes)
            stored.append(
                NewClip(
                    storage_key=blob.key,
                    path=clip.wanted.path,
                    label=clip.wanted.label,
                    speaker=clip.wanted.speaker,
                    duration_s=clip.duration_s,
                    size_bytes=blob.size,
                    sha256=blob.sha256,
                )
            )
    except BaseException:
        for clip in stored:
            storage.delete(clip.storage_key)
        raise
    return stored
