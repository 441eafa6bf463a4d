"""A checkpoint folder as one zip archive in the storage backend, under the model version's key.

One blob per version: the storage backends store opaque blobs by key, and a zip is written and read
whole, so a version's files can never be half there. The archive's SHA-256 is the version's revision.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path

from shared.storage import Storage, StoredBlob, store_file

# A checkpoint of the shipped architecture is a few megabytes; a fine-tuned base-size one ~400 MB.
MAX_CHECKPOINT_BYTES = 2 * 1024**3
_CHUNK = 1024 * 1024


def checkpoint_key(version_id: uuid.UUID) -> str:
    return version_id.hex


def store_checkpoint(storage: Storage, key: str, folder: Path) -> StoredBlob:
    """Zip the files of ``folder`` (not its sub-folders: a checkpoint is flat) into the blob ``key``."""
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "checkpoint.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(p for p in folder.iterdir() if p.is_file()):
                zipped.write(path, arcname=path.name)
        return store_file(storage, key, archive, max_bytes=MAX_CHECKPOINT_BYTES)


def unpack_checkpoint(storage: Storage, key: str, destination: Path) -> Path:
    """The archive ``key`` unpacked into ``destination`` (created), which is returned.

    Unpacked beside it first and renamed into place, so a reader never sees a half-unpacked folder.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}-", dir=destination.parent))
    try:
        with storage.local_path(key) as archive, zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                # Flat by construction; anything else is not an archive this module wrote.
                name = Path(member.filename).name
                if member.is_dir() or name != member.filename:
                    raise ValueError(f"unexpected entry {member.filename!r} in checkpoint archive {key}")
                with zipped.open(member) as source, (staging / name).open("wb") as target:
                    shutil.copyfileobj(source, target, _CHUNK)
        try:
            staging.rename(destination)
        except OSError:
            if not destination.is_dir():  # another process unpacked it first: theirs is the same archive
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination
