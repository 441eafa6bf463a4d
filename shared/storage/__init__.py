"""Audio storage by key, on a local folder (``file://``) or an S3-compatible bucket (``s3://``).

Keys are job ids: a client's filename never becomes a path or an object name. Writers stream, hash and
count as they go and make nothing visible until ``commit``; ``local_path`` hands a worker or the API's
probe a file it can open, the stored one itself or a temporary download.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from shared.config import Settings, get_settings
from shared.errors import UploadTooLarge

_KEY = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    sha256: str


class SizedDigest:
    """What every writer keeps while bytes stream through: their SHA-256 and count, against the limit."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise UploadTooLarge(f"the upload exceeds the limit of {self.max_bytes} bytes")
        self._hash.update(chunk)

    def blob(self, key: str) -> StoredBlob:
        return StoredBlob(key=key, size=self.size, sha256=self._hash.hexdigest())


class BlobWriter(Protocol):
    def write(self, chunk: bytes) -> None: ...
    def commit(self) -> StoredBlob: ...
    def abort(self) -> None: ...


class Storage(Protocol):
    def writer(self, key: str, *, max_bytes: int) -> BlobWriter: ...
    def local_path(self, key: str) -> AbstractContextManager[Path]: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...


def store_file(storage: Storage, key: str, source: Path, *, max_bytes: int) -> StoredBlob:
    """A local file streamed into the blob ``key``; nothing is left of it if that fails."""
    writer = storage.writer(key, max_bytes=max_bytes)
    try:
        with source.open("rb") as file:
            while chunk := file.read(_CHUNK):
                writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer.commit()


def storage_key(job_id: uuid.UUID) -> str:
    return job_id.hex


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def open_storage(settings: Settings) -> Storage:
    folder = settings.local_storage_dir
    if folder is not None:
        from shared.storage.local import LocalStorage

        return LocalStorage(folder)
    # Imported here: boto3 costs start-up time that the embedded default never needs.
    from shared.storage.s3 import S3Storage

    return S3Storage.from_settings(settings)


@lru_cache
def get_storage() -> Storage:
    return open_storage(get_settings())
