"""A labelled-audio manifest: a CSV of ``path,label`` and an optional ``speaker``, one row per clip, paths
relative to the manifest's own folder. ``emoq train`` reads it from a folder and ``POST /v1/datasets``
from an upload; both parse it here."""

from __future__ import annotations

import csv
import io
import posixpath
import re
from dataclasses import dataclass

from shared.errors import InvalidRequest

REQUIRED_COLUMNS = ("path", "label")
MANIFEST_NAME = "manifest.csv"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ManifestRow:
    path: str  # as written in the manifest
    label: str  # stripped; empty when the row has none
    speaker: str | None  # None when the manifest has no speaker column or the cell is empty


def parse_manifest(
    text: str, *, source: str = MANIFEST_NAME, required: tuple[str, ...] = REQUIRED_COLUMNS
) -> list[ManifestRow]:
    """Every row; extra columns (duration, gender ...) are ignored. A reader that needs more columns than
    path and label (training splits by speaker) names them in ``required``. Raises ``InvalidRequest``
    (code ``invalid_manifest``) for missing columns or no rows."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    columns = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = columns
    missing = [c for c in required if c not in columns]
    if missing:
        raise InvalidRequest(f"{source}: missing column(s) {', '.join(missing)}", code="invalid_manifest")
    try:
        rows = [
            ManifestRow(
                path=(row["path"] or "").strip(),
                label=(row["label"] or "").strip(),
                speaker=(row.get("speaker") or "").strip() or None,
            )
            for row in reader
        ]
    except csv.Error as exc:
        raise InvalidRequest(f"{source}: not a CSV file ({exc})", code="invalid_manifest") from exc
    if not rows:
        raise InvalidRequest(f"{source}: no rows", code="invalid_manifest")
    return rows


def normalize_path(path: str) -> str | None:
    """The path as a relative POSIX path inside the dataset (``./a/../b.wav`` -> ``b.wav``), or None when
    it points outside it, is absolute or holds control characters. Used only to match manifest rows with
    files: no path a client names is ever opened or created."""
    if not path or _CONTROL.search(path):
        return None
    cleaned = posixpath.normpath(path.replace("\\", "/"))
    if cleaned.startswith(("/", "../")) or cleaned in {".", ".."} or re.match(r"^[A-Za-z]:", cleaned):
        return None
    return cleaned
