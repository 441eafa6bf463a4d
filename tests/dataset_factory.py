"""Labelled corpora for dataset tests: a folder of generated clips with its manifest.csv, zipped or not."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from tests.audio_factory import write_tone

# Each label a pitch, so a corpus is distinguishable audio, not copies of one file.
PITCHES = {"angry": 220.0, "sad": 150.0, "happy": 330.0}


def write_corpus(
    folder: Path, *, labels: tuple[str, ...] = ("angry", "sad"), per_label: int = 5, speakers: int = 2
) -> Path:
    """``per_label`` half-second wav clips per label, spread over ``speakers`` speakers, under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["path,label,speaker"]
    for label in labels:
        for n in range(per_label):
            name = f"{label}/{label}{n}.wav"
            (folder / label).mkdir(exist_ok=True)
            write_tone(folder / name, fmt="wav", seconds=0.5, freq=PITCHES[label] * (1 + 0.02 * n))
            rows.append(f"{name},{label},s{n % speakers}")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder


def zip_folder(folder: Path, *, extra: dict[str, bytes] | None = None) -> bytes:
    """Every file under ``folder`` by its relative path, and ``extra`` entries as given."""
    files = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
    return zip_entries(files | (extra or {}))


def zip_entries(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()
