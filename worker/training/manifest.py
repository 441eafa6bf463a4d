"""Reading a corpus manifest: a CSV of ``path,label,speaker`` with paths relative to its own folder."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from shared.errors import InvalidRequest

REQUIRED_COLUMNS = ("path", "label", "speaker")


@dataclass(frozen=True)
class Clip:
    path: Path
    label: str
    speaker: str


def read_manifest(manifest: Path) -> list[Clip]:
    """Every row as a Clip with an absolute path; extra columns (duration, gender ...) are ignored."""
    with manifest.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidRequest(f"{manifest}: missing column(s) {', '.join(missing)}")
        clips = [
            Clip(path=(manifest.parent / row["path"]).resolve(), label=row["label"], speaker=row["speaker"])
            for row in reader
        ]
    if not clips:
        raise InvalidRequest(f"{manifest}: no rows")
    return clips


def labels_of(clips: list[Clip]) -> list[str]:
    return sorted({clip.label for clip in clips})


def speakers_of(clips: list[Clip]) -> list[str]:
    return sorted({clip.speaker for clip in clips})


def parse_list(text: str | None) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; None or blank -> ``[]``."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]
