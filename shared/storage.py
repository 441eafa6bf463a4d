"""Audio storage by key. Keys are job ids: a client's filename never becomes a path."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from shared.config import get_settings
from shared.errors import ServiceUnavailable, UploadTooLarge

_KEY = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    sha256: str


class BlobWriter(Protocol):
    def write(self, chunk: bytes) -> None: ...
    def commit(self) -> StoredBlob: ...
    def abort(self) -> None: ...


class Storage(Protocol):
    def writer(self, key: str, *, max_bytes: int) -> BlobWriter: ...
    def local_path(self, key: str) -> AbstractContextManager[Path]: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...


def storage_key(job_id: uuid.UUID) -> str:
    return job_id.hex


class LocalWriter:
    """Streams into a hidden part file, hashing and counting as it goes; ``commit`` makes it visible."""

    def __init__(self, part: Path, final: Path, key: str, max_bytes: int) -> None:
        self._part, self._final, self._key, self._max = part, final, key, max_bytes
        self._hash = hashlib.sha256()
        self._size = 0
        try:
            self._file = part.open("xb")
        except OSError as exc:
            raise ServiceUnavailable("audio storage is not writable", code="storage_unavailable") from exc

    def write(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._max:
            self.abort()
            raise UploadTooLarge(f"the upload exceeds the limit of {self._max} bytes")
        self._hash.update(chunk)
        try:
            self._file.write(chunk)
        except OSError as exc:
            self.abort()
            raise ServiceUnavailable(
                "audio storage is full or not writable", code="storage_unavailable"
            ) from exc

    def commit(self) -> StoredBlob:
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._part, self._final)
        except OSError as exc:
            self.abort()
            raise ServiceUnavailable(
                "audio storage is full or not writable", code="storage_unavailable"
            ) from exc
        return StoredBlob(key=self._key, size=self._size, sha256=self._hash.hexdigest())

    def abort(self) -> None:
        self._file.close()
        self._part.unlink(missing_ok=True)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._incoming = self.root / ".incoming"

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key[:2] / key

    def writer(self, key: str, *, max_bytes: int) -> LocalWriter:
        try:
            self._incoming.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ServiceUnavailable("audio storage is not writable", code="storage_unavailable") from exc
        return LocalWriter(self._incoming / f"{key}.part", self._path(key), key, max_bytes)

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        yield self._path(key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


@lru_cache
def get_storage() -> Storage:
    return LocalStorage(get_settings().storage_dir)
