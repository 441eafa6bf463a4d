"""A dataset sent as a zip, read defensively: its central directory is checked against the limits
(entries, unpacked size, compression ratio) before a byte is unpacked, entries are streamed out under
names the server makes, and no name from the archive ever becomes a path."""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shared.datasets.manifest import MANIFEST_NAME, normalize_path
from shared.datasets.refusals import unusable
from shared.errors import InvalidRequest, UploadTooLarge

_CHUNK = 1024 * 1024
# Below this, a high ratio is a small text file or silence, not a bomb; the total limit still holds.
_RATIO_FLOOR_BYTES = 1024 * 1024
# zip bit 0: the entry is encrypted.
_ENCRYPTED = 0x1


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int
    max_total_bytes: int
    max_ratio: float
    max_manifest_bytes: int


class Archive:
    """An opened, checked zip: its manifest's text, its files by path relative to the manifest's folder,
    and the names of those outside that folder (``strays``), which no manifest row can name."""

    def __init__(
        self,
        archive: zipfile.ZipFile,
        manifest_text: str,
        files: dict[str, zipfile.ZipInfo],
        strays: list[str],
    ) -> None:
        self._zip = archive
        self.manifest_text = manifest_text
        self.files = files
        self.strays = strays

    def extract(self, path: str, target: Path, *, max_bytes: int) -> None:
        """The entry at ``path`` streamed into ``target`` (a new file the caller names)."""
        info = self.files[path]
        written = 0
        try:
            with self._zip.open(info) as source, target.open("xb") as sink:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise UploadTooLarge(f"the file exceeds the limit of {max_bytes} bytes")
                    sink.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise InvalidRequest("the archive entry cannot be unpacked", code="unreadable_entry") from exc


@contextmanager
def open_archive(path: Path, limits: ArchiveLimits) -> Iterator[Archive]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise unusable("invalid_archive", "the archive is not a zip file") from exc
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        _check_directory(entries, limits)
        manifest = _find_manifest(entries)
        base = posixpath.dirname(manifest.filename)
        files: dict[str, zipfile.ZipInfo] = {}
        strays: list[str] = []
        for info in entries:
            relative = normalize_path(posixpath.relpath(info.filename, base) if base else info.filename)
            if relative is None:
                strays.append(info.filename)
            elif info is not manifest:
                files[relative] = info
        text = _read_manifest(archive, manifest, limits.max_manifest_bytes)
        yield Archive(archive, text, files, strays)


def _check_directory(entries: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    """Every limit from the central directory alone: a bomb is refused before it is opened. Entries
    claim their sizes; unpacking never reads more than an entry claims (zipfile stops there)."""
    if len(entries) > limits.max_entries:
        raise unusable("archive_too_many_entries", f"the archive holds more than {limits.max_entries} files")
    if sum(info.file_size for info in entries) > limits.max_total_bytes:
        raise unusable(
            "archive_too_large", f"the archive unpacks to more than {limits.max_total_bytes} bytes"
        )
    for info in entries:
        if info.flag_bits & _ENCRYPTED:
            raise unusable("invalid_archive", f"{info.filename}: encrypted entries are not accepted")
        if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise unusable(
                "archive_compression_ratio",
                f"an entry unpacks to more than {limits.max_ratio:g} times its packed size",
            )
    names = [normalize_path(info.filename) or info.filename for info in entries]
    if len(set(names)) != len(names):
        raise unusable("invalid_archive", "the archive names the same file twice")


def _find_manifest(entries: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    """The manifest.csv nearest the root, so a zip of a folder (``DIR/manifest.csv``) works as well."""
    found = [info for info in entries if posixpath.basename(info.filename) == MANIFEST_NAME]
    if not found:
        raise unusable("no_manifest", f"the archive has no {MANIFEST_NAME}")
    depth = min(info.filename.count("/") for info in found)
    nearest = [info for info in found if info.filename.count("/") == depth]
    if len(nearest) > 1 or normalize_path(nearest[0].filename) is None:
        raise unusable("no_manifest", f"the archive has no single {MANIFEST_NAME} nearest its root")
    return nearest[0]


def _read_manifest(archive: zipfile.ZipFile, manifest: zipfile.ZipInfo, max_bytes: int) -> str:
    if manifest.file_size > max_bytes:
        raise unusable("invalid_manifest", f"{MANIFEST_NAME} exceeds {max_bytes} bytes")
    try:
        return archive.read(manifest).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise unusable("invalid_manifest", f"{MANIFEST_NAME} is not UTF-8") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise unusable("invalid_manifest", f"{MANIFEST_NAME} cannot be unpacked") from exc
