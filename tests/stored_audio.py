"""Stand-in audio in storage, for tests of what happens to a job's audio, not of decoding it."""

from __future__ import annotations

import uuid

from shared.config import Settings
from shared.storage import get_storage, storage_key
from tests.s3_server import object_names


def store_placeholder_audio(job_id: uuid.UUID) -> str:
    """Write a few bytes under the job's storage key and return the key."""
    writer = get_storage().writer(storage_key(job_id), max_bytes=1024)
    writer.write(b"RIFF....")
    return writer.commit().key


def stored_audio(settings: Settings) -> list[str]:
    """Everything in the store, finished or half-written: files under the folder, or objects in the bucket."""
    folder = settings.local_storage_dir
    if folder is None:
        return object_names(settings)
    return [str(p) for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
