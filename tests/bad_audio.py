"""Uploads that are not usable audio, with what the API must answer for each."""

from __future__ import annotations

import io
import struct
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


def _too_short(folder: Path) -> Path:
    return write_tone(folder / "click.wav", fmt="wav", seconds=0.1)


def _claims_gigabytes(folder: Path) -> Path:
    return write_lying_wav(folder / "claims-2gb.wav", seconds_present=100 / 32000, declared_bytes=2**31)


def write_lying_wav(path: Path, *, seconds_present: float, declared_bytes: int) -> Path:
    """A 16 kHz 16-bit mono WAV whose header declares ``declared_bytes`` of samples, more than it holds."""
    data = bytearray(write_tone(path, fmt="wav", seconds=seconds_present).read_bytes())
    assert data[36:40] == b"data"
    data[40:44] = struct.pack("<I", declared_bytes)
    data[4:8] = struct.pack("<I", min(36 + declared_bytes, 0xFFFFFFFF))
    path.write_bytes(bytes(data))
    return path


def write_cut_in_half(path: Path, *, fmt: str, seconds: float) -> Path:
    """A file of ``fmt`` whose second half is missing, its header still telling the whole length."""
    data = write_tone(path, fmt=fmt, seconds=seconds).read_bytes()
    path.write_bytes(data[: len(data) // 2])
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
    BadUpload("a tenth of a second", _too_short, 422, "too_short"),
    BadUpload("a wav claiming 2 GB that holds 100 bytes", _claims_gigabytes, 422, "too_short"),
]
# The tests that use BAD_UPLOADS run with EMOQ_MAX_AUDIO_SECONDS below the long clip's length.
MAX_AUDIO_SECONDS_FOR_BAD_UPLOADS = 10.0
