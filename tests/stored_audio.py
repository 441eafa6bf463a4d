"""Stand-in audio in storage, for tests of what happens to a job's audio, not of decoding it."""

from __future__ import annotations

import uuid

from shared.storage import get_storage, storage_key


def store_placeholder_audio(job_id: uuid.UUID) -> str:
    """Write a few bytes under the job's storage key and return the key."""
    writer = get_storage().writer(storage_key(job_id), max_bytes=1024)
    writer.write(b"RIFF....")
    return writer.commit().key
