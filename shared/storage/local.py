"""Audio in a local folder: the embedded default, or a disk every API and worker host mounts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.errors import ServiceUnavailable, UploadTooLarge
from shared.storage import SizedDigest, StoredBlob, check_key


class LocalWriter:
    """Streams into a hidden part file, hashing and counting as it goes; ``commit`` makes it visible."""

    def __init__(self, part: Path, final: Path, key: str, max_bytes: int) -> None:
        self._part, self._final, self._key = part, final, key
        self._digest = SizedDigest(max_bytes)
        try:
            self._file = part.open("xb")
        except OSError as exc:
            raise ServiceUnavailable("audio storage is not writable", code="storage_unavailable") from exc

    def write(self, chunk: bytes) -> None:
        try:
            self._digest.add(chunk)
        except UploadTooLarge:
            self.abort()
            raise
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
        return self._digest.blob(self._key)

    def abort(self) -> None:
        self._file.close()
        self._part.unlink(missing_ok=True)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._incoming = self.root / ".incoming"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / check_key(key)

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
