"""Hostile uploads, built from real encoded files: garbage, truncation, corruption, lying headers, bombs."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.audio_factory import FORMATS, write_tone

Builder = Callable[[Path], Path]
RNG_SEED = 20261121


def _tone(folder: Path, fmt: str, seconds: float = 2.0) -> Path:
    return write_tone(folder / f"tone{FORMATS[fmt].suffix}", fmt=fmt, seconds=seconds)


def random_bytes(suffix: str) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / f"random{suffix}"
        path.write_bytes(np.random.default_rng(RNG_SEED).bytes(8192))
        return path

    return build


def truncated(fmt: str, keep: float | int) -> Builder:
    """Cut to a fraction of the file (float) or to a number of bytes (int)."""

    def build(folder: Path) -> Path:
        data = _tone(folder, fmt).read_bytes()
        path = folder / f"truncated{FORMATS[fmt].suffix}"
        path.write_bytes(data[: keep if isinstance(keep, int) else int(len(data) * keep)])
        return path

    return build


def corrupted(fmt: str) -> Builder:
    """The middle third overwritten with noise: headers intact, payload garbage."""

    def build(folder: Path) -> Path:
        data = bytearray(_tone(folder, fmt).read_bytes())
        third = len(data) // 3
        data[third : 2 * third] = np.random.default_rng(RNG_SEED).bytes(third)
        path = folder / f"corrupted{FORMATS[fmt].suffix}"
        path.write_bytes(bytes(data))
        return path

    return build


def wav_with_channels(channels: int) -> Builder:
    def build(folder: Path) -> Path:
        data = bytearray(_tone(folder, "wav").read_bytes())
        fmt_at = data.index(b"fmt ") + 8
        struct.pack_into("<H", data, fmt_at + 2, channels)
        path = folder / f"channels-{channels}.wav"
        path.write_bytes(bytes(data))
        return path

    return build


def wav_claiming_4_gib(folder: Path) -> Path:
    """A 64 KB file whose RIFF and data sizes claim 4 GiB of samples."""
    data = bytearray(_tone(folder, "wav").read_bytes())
    struct.pack_into("<I", data, 4, 0xFFFFFFF0)
    struct.pack_into("<I", data, data.index(b"data") + 4, 0xFFFFFFE0)
    path = folder / "claims-4gib.wav"
    path.write_bytes(bytes(data))
    return path


def flac_claiming_endless(folder: Path) -> Path:
    """STREAMINFO's 36-bit total-samples field set to its maximum: days of audio claimed."""
    data = bytearray(_tone(folder, "flac").read_bytes())
    packed = int.from_bytes(data[18:26], "big") | ((1 << 36) - 1)
    data[18:26] = packed.to_bytes(8, "big")
    path = folder / "endless.flac"
    path.write_bytes(bytes(data))
    return path


def silence_bomb_flac(folder: Path) -> Path:
    """Three hours of digital silence: a few hundred KB that would decode to 330 MB of float32."""
    path = folder / "bomb.flac"
    with sf.SoundFile(path, "w", samplerate=8000, channels=1, format="FLAC", subtype="PCM_16") as out:
        block = np.zeros(8000 * 60, dtype=np.int16)
        for _ in range(180):
            out.write(block)
    return path


def silence_bomb_webm(folder: Path) -> Path:
    """A browser-style webm with no duration in its header: only decoding can tell how long it is."""
    return write_tone(folder / "bomb.webm", fmt="webm", seconds=150.0, freq=0.0)


def float_wav_with(value: float) -> Builder:
    def build(folder: Path) -> Path:
        samples = np.full(16000, 0.1, dtype=np.float32)
        samples[100] = value
        path = folder / f"float-{value}.wav"
        sf.write(path, samples, 16000, subtype="FLOAT")
        return path

    return build


# name, builder, what the API may answer (status codes), and what decoding may raise (error codes;
# "ok" means decoding succeeds with what is there).
CORPUS: list[tuple[str, Builder, set[int], set[str]]] = [
    *[
        (f"random bytes {s}", random_bytes(s), {415}, {"undecodable_audio"})
        for s in (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".webm", ".opus")
    ],
    *[
        (f"{fmt} cut in half", truncated(fmt, 0.5), {202, 415}, {"ok", "undecodable_audio"})
        for fmt in ("wav", "flac", "mp3", "ogg", "m4a")
    ],
    ("wav header only", truncated("wav", 44), {415, 422}, {"undecodable_audio", "empty_audio"}),
    *[
        (
            f"{fmt} cut after its headers",
            truncated(fmt, 0.02),
            {202, 415, 422},
            {"ok", "undecodable_audio", "empty_audio", "too_short"},
        )
        for fmt in ("flac", "ogg")
    ],
    *[
        (f"{fmt} corrupted", corrupted(fmt), {202, 415}, {"ok", "undecodable_audio"})
        for fmt in ("wav", "flac", "mp3", "ogg", "m4a", "webm")
    ],
    ("wav claiming 65535 channels", wav_with_channels(65535), {415}, {"undecodable_audio"}),
    ("wav claiming 0 channels", wav_with_channels(0), {415}, {"undecodable_audio"}),
    (
        "wav claiming 4 GiB",
        wav_claiming_4_gib,
        {202, 415, 422},
        {"ok", "audio_too_long", "undecodable_audio"},
    ),
    (
        "flac claiming endless audio",
        flac_claiming_endless,
        {422, 415},
        {"audio_too_long", "undecodable_audio", "ok"},
    ),
    ("3 h silence bomb (flac)", silence_bomb_flac, {422}, {"audio_too_long"}),
    ("150 s webm without duration", silence_bomb_webm, {202}, {"audio_too_long"}),
    ("float wav with NaN", float_wav_with(float("nan")), {202, 415}, {"undecodable_audio"}),
    ("float wav with Inf", float_wav_with(float("inf")), {202, 415}, {"undecodable_audio"}),
]
