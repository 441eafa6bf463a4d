"""Uploads that are not usable audio, with what the API must answer for each."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile as sf

from tests.audio_factory import write_tone


class BadUpload(NamedTuple):
    name: str
    write: Callable[[Path], Path]
    status: int
    code: str


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return write


def _truncated_header(folder: Path) -> Path:
    path = write_tone(folder / "whole.wav", fmt="wav", seconds=1.0)
    cut = folder / "truncated.wav"
    cut.write_bytes(path.read_bytes()[:20])
    return cut


def _no_samples(folder: Path) -> Path:
    path = folder / "silent-nothing.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000, subtype="PCM_16")
    return path


def _zip(folder: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "not audio " * 100)
    path = folder / "archive.ogg"
    path.write_bytes(buffer.getvalue())
    return path


def _long(folder: Path) -> Path:
    return write_tone(folder / "long.wav", fmt="wav", seconds=12.0)


BAD_UPLOADS = [
    BadUpload(
        "random bytes", _bytes("noise.wav", np.random.default_rng(1).bytes(4096)), 415, "undecodable_audio"
    ),
    BadUpload(
        "text file", _bytes("notes.mp3", b"these are my meeting notes\n" * 50), 415, "undecodable_audio"
    ),
    BadUpload("zip posing as ogg", _zip, 415, "undecodable_audio"),
    BadUpload("wav truncated in its header", _truncated_header, 415, "undecodable_audio"),
    BadUpload("zero-length file", _bytes("empty.wav", b""), 422, "empty_upload"),
    BadUpload("wav with no samples", _no_samples, 422, "empty_audio"),
    BadUpload("longer than the limit", _long, 422, "audio_too_long"),
]
# The tests that use BAD_UPLOADS run with EMOQ_MAX_AUDIO_SECONDS below the long clip's length.
MAX_AUDIO_SECONDS_FOR_BAD_UPLOADS = 10.0
