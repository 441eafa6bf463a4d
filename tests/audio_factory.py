"""Real, encoded audio files for tests: a sine tone written in each format clients upload.

Files are encoded by the same libraries production decodes with, so a test proves the round trip
rather than trusting a fixture someone once saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import av
import numpy as np
import soundfile as sf


class Format(NamedTuple):
    suffix: str  # the extension an upload of this kind carries
    container: str  # AudioInfo.container that probe() reports
    codec: str  # AudioInfo.codec that probe() reports


FORMATS: dict[str, Format] = {
    "wav": Format(".wav", "wav", "pcm_s16le"),
    "flac": Format(".flac", "flac", "flac"),
    "ogg": Format(".ogg", "ogg", "vorbis"),
    "opus": Format(".opus", "ogg", "opus"),
    "mp3": Format(".mp3", "mp3", "mp3"),
    "m4a": Format(".m4a", "mp4", "aac"),
    "webm": Format(".webm", "webm", "opus"),
}

# libsndfile (major format, subtype). Vorbis is here because FFmpeg's own vorbis encoder, the only
# one this PyAV build has, refuses anything but stereo.
_SOUNDFILE_ENCODINGS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS")}


class _PyAVEncoding(NamedTuple):
    muxer: str
    encoder: str
    rate: int | None  # what the file is encoded at; None keeps the tone's rate
    muxer_options: dict[str, str]


# Opus is written at 48 kHz as browsers do, so decoding it exercises resampling. The webm is muxed
# "live", like MediaRecorder output: no duration and no cues, so probe cannot know how long it is.
_PYAV_ENCODINGS = {
    "opus": _PyAVEncoding("ogg", "libopus", 48000, {}),
    "mp3": _PyAVEncoding("mp3", "libmp3lame", None, {}),
    "m4a": _PyAVEncoding("ipod", "aac", None, {}),
    "webm": _PyAVEncoding("webm", "libopus", 48000, {"live": "1"}),
}


def tone(seconds: float, sample_rate: int, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    """A sine at half scale, shaped (frames, channels), float32; every channel carries the same tone."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    wave = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def write_tone(
    path: Path,
    *,
    fmt: str,
    seconds: float = 1.0,
    sample_rate: int = 16000,
    channels: int = 1,
    freq: float = 440.0,
) -> Path:
    samples = tone(seconds, sample_rate, freq, channels)
    if fmt in _SOUNDFILE_ENCODINGS:
        major, subtype = _SOUNDFILE_ENCODINGS[fmt]
        sf.write(path, samples, sample_rate, format=major, subtype=subtype)
    else:
        _encode_with_pyav(path, samples, sample_rate, _PYAV_ENCODINGS[fmt])
    return path


def _encode_with_pyav(path: Path, samples: np.ndarray, sample_rate: int, encoding: _PyAVEncoding) -> None:
    layout = "mono" if samples.shape[1] == 1 else "stereo"
    with av.open(str(path), mode="w", format=encoding.muxer, options=encoding.muxer_options) as container:
        stream = container.add_stream(encoding.encoder, rate=encoding.rate or sample_rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T), format="fltp", layout=layout)
        frame.rate = sample_rate
        # PyAV converts rate, sample format and frame size to whatever the encoder wants.
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
