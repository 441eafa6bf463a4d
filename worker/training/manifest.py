"""Reading a corpus manifest for training: the shared format (``shared.datasets.manifest``) from a folder,
where a ``speaker`` column is required because validation is split by speaker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.datasets.manifest import REQUIRED_COLUMNS, parse_manifest


@dataclass(frozen=True)
class Clip:
    path: Path
    label: str
    speaker: str


def read_manifest(manifest: Path) -> list[Clip]:
    """Every row as a Clip with an absolute path; extra columns (duration, gender ...) are ignored."""
    rows = parse_manifest(
        manifest.read_text(encoding="utf-8"), source=str(manifest), required=(*REQUIRED_COLUMNS, "speaker")
    )
    return [
        Clip(path=(manifest.parent / row.path).resolve(), label=row.label, speaker=row.speaker or "")
        for row in rows
    ]


def labels_of(clips: list[Clip]) -> list[str]:
    return sorted({clip.label for clip in clips})


def speakers_of(clips: list[Clip]) -> list[str]:
    return sorted({clip.speaker for clip in clips})


def parse_list(text: str | None) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; None or blank -> ``[]``."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]
