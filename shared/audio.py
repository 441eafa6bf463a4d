"""Probe and decode uploaded audio to mono float32, without torch: the API probes every upload and the
worker decodes before inference, so both must agree on what counts as usable audio.

libsndfile reads wav, flac, ogg (vorbis, opus) and mp3 itself; everything else (m4a/aac, webm/opus,
mp4) and anything libsndfile refuses goes through FFmpeg via PyAV. Either way audio arrives as
float32 blocks shaped (frames, channels) and is mixed, resampled and length-checked as it streams.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import av
import av.logging
import numpy as np
import soundfile as sf
import soxr

from shared.errors import AudioTooLong, AudioTooShort, EmptyAudio, UndecodableAudio

# Beyond these a header is lying or hostile; accepting it would size buffers from attacker input.
MAX_SAMPLE_RATE = 768_000
MAX_CHANNELS = 64

# Less than this, decoded, is too little to carry an emotion: a click, or what is left of a broken file.
MIN_AUDIO_SECONDS = 0.25
# Decoding that ends this much short of the header's length means the file was cut or its header lies;
# a little short is ordinary (encoder padding, rounding).
TRUNCATION_TOLERANCE = 0.05
TRUNCATION_MIN_SECONDS = 0.1

_BLOCK_FRAMES = 16_384

# Uploads are untrusted. Only demuxers that read the one file they are given: HLS, concat and the like
# follow paths or URLs written inside the file.
_PYAV_OPTIONS = {
    "format_whitelist": "wav,w64,flac,ogg,mp3,mov,matroska,aac,aiff,caf,amr,au",
    "protocol_whitelist": "file",
}
# FFmpeg names one demuxer for several containers; report the name clients know the upload by.
_PYAV_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "webm"}

# libsndfile subtypes in FFmpeg's codec vocabulary, so both decoders describe files alike. PCM byte
# order is the WAV one; other libsndfile containers are rare in uploads.
_SOUNDFILE_CODECS = {
    "PCM_U8": "pcm_u8",
    "PCM_S8": "pcm_s8",
    "PCM_16": "pcm_s16le",
    "PCM_24": "pcm_s24le",
    "PCM_32": "pcm_s32le",
    "FLOAT": "pcm_f32le",
    "DOUBLE": "pcm_f64le",
    "ULAW": "pcm_mulaw",
    "ALAW": "pcm_alaw",
    "VORBIS": "vorbis",
    "OPUS": "opus",
    "MPEG_LAYER_III": "mp3",
}

# Hostile inputs make FFmpeg log a line per broken packet; the errors we raise say enough.
av.logging.set_level(None)


@dataclass(frozen=True)
class AudioInfo:
    container: str  # short format name, e.g. "wav", "flac", "ogg", "mp3", "mp4", "webm"
    codec: str | None  # e.g. "pcm_s16le", "flac", "vorbis", "opus", "mp3", "aac"
    sample_rate: int
    channels: int
    duration_s: float | None  # None when the container does not say (browser-recorded webm often doesn't)
    # What the header claims, even beyond the end of the file; duration_s is what the decoder will read.
    declared_duration_s: float | None = None


class _Source(NamedTuple):
    info: AudioInfo
    first: np.ndarray  # decoded eagerly: opening a source proves the file decodes
    rest: Iterator[np.ndarray]


def probe(path: Path, *, max_seconds: float) -> AudioInfo:
    """Describe the audio in `path`, having decoded its first block to prove it is audio.

    Decodes nothing past that block, so probing costs the same for a clip as for an hour.
    """
    with _open_source(path) as source:
        _require_finite(source.first)
        # A first block shorter than asked for is the whole file, whatever the header says.
        if len(source.first) < min(_BLOCK_FRAMES, MIN_AUDIO_SECONDS * source.info.sample_rate):
            raise _too_short(len(source.first) / source.info.sample_rate)
        duration = source.info.duration_s
        if duration is not None and duration > max_seconds:
            raise AudioTooLong(f"audio is {duration:.1f} s long; the limit is {max_seconds:g} s")
        return source.info


def decode_to_mono(path: Path, *, target_rate: int, max_seconds: float) -> np.ndarray:
    """The whole file as 1-D float32 at `target_rate`, channels averaged (see `stream_mono`)."""
    return np.concatenate(list(stream_mono(path, target_rate=target_rate, max_seconds=max_seconds)))


def stream_mono(path: Path, *, target_rate: int, max_seconds: float) -> Iterator[np.ndarray]:
    """The file as consecutive 1-D float32 blocks at `target_rate`, channels averaged, as they decode.

    Stops as soon as more than `max_seconds` has decoded, whatever the header claimed; a consumer that
    keeps only what it needs holds a few blocks, however long the recording. Raises `EmptyAudio` at the
    end if nothing decoded, `AudioTooShort` if less than `MIN_AUDIO_SECONDS` did.
    """
    # Checked here because inside _open_source a bad argument would be reported as bad audio.
    if target_rate <= 0:
        raise ValueError(f"target_rate must be positive, got {target_rate}")
    with _open_source(path) as source:
        blocks = itertools.chain([source.first], source.rest)
        yield from _mix_and_resample(blocks, source.info.sample_rate, target_rate, max_seconds)


def _mix_and_resample(
    blocks: Iterator[np.ndarray], source_rate: int, target_rate: int, max_seconds: float
) -> Iterator[np.ndarray]:
    resampler = None
    if source_rate != target_rate:
        resampler = soxr.ResampleStream(source_rate, target_rate, 1, dtype="float32", quality="HQ")
    decoded = produced = 0
    for block in blocks:
        decoded += len(block)
        if decoded > max_seconds * source_rate:
            raise AudioTooLong(f"audio is longer than the limit of {max_seconds:g} s")
        _require_finite(block)
        mono = block.mean(axis=1, dtype=np.float32)
        out = resampler.resample_chunk(mono) if resampler else mono
        if out.size:
            produced += out.size
            yield out
    if resampler:
        tail = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        if tail.size:
            produced += tail.size
            yield tail
    if not produced:
        raise EmptyAudio()
    if decoded < MIN_AUDIO_SECONDS * source_rate:
        raise _too_short(decoded / source_rate)


def falls_short(declared_s: float | None, decoded_s: float) -> bool:
    """Whether decoding ended well before the length the header declared: a file cut short, or lying."""
    if declared_s is None:
        return False
    shortfall = declared_s - decoded_s
    return shortfall > TRUNCATION_MIN_SECONDS and shortfall > TRUNCATION_TOLERANCE * declared_s


def _too_short(seconds: float) -> AudioTooShort:
    return AudioTooShort(f"only {seconds:.3f} s of audio decoded; at least {MIN_AUDIO_SECONDS:g} s is needed")


def _require_finite(block: np.ndarray) -> None:
    # Only float formats can carry these; they would turn every downstream score into NaN.
    if not np.isfinite(block).all():
        raise UndecodableAudio("audio contains NaN or infinite samples")


@contextmanager
def _open_source(path: Path) -> Iterator[_Source]:
    # A missing file is a storage fault, not the client's audio, so stat() may raise as it likes.
    if path.stat().st_size == 0:
        raise EmptyAudio("the file is empty")
    with ExitStack() as stack:
        try:
            yield _open_with_soundfile(path, stack) or _open_with_pyav(path, stack)
        except av.FFmpegError as error:
            raise UndecodableAudio(f"could not decode audio: {error.strerror}") from None
        except sf.LibsndfileError as error:
            raise UndecodableAudio(f"could not decode audio: {error.error_string}") from None
        except (RuntimeError, ValueError, EOFError):
            raise UndecodableAudio("could not decode audio") from None


def _open_with_soundfile(path: Path, stack: ExitStack) -> _Source | None:
    """None when libsndfile cannot read the file or finds nothing in it: FFmpeg gets its turn."""
    try:
        file = stack.enter_context(sf.SoundFile(path))
        duration = file.frames / file.samplerate if file.samplerate > 0 else None
        info = _checked(
            AudioInfo(
                container=file.format.lower(),
                codec="flac" if file.format == "FLAC" else _SOUNDFILE_CODECS.get(file.subtype, file.subtype),
                sample_rate=file.samplerate,
                channels=file.channels,
                duration_s=duration,
                declared_duration_s=_wav_declared_seconds(path) if file.format == "WAV" else duration,
            )
        )
        first = file.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
    except sf.LibsndfileError:
        return None
    # libsndfile takes a WAV data size of 0 (recorders that never finished the header) at its word;
    # FFmpeg reads on to the end of the file, and says empty only when it truly is.
    if not len(first):
        return None
    return _Source(info, first, _soundfile_blocks(file))


def _wav_declared_seconds(path: Path) -> float | None:
    """The length a WAV's data chunk declares. libsndfile and FFmpeg both trim a data chunk that runs
    past the end of the file, so only the header itself tells that the file was cut short. (The standard
    library's ``wave`` refuses float and extensible WAVs, which libsndfile reads.)"""
    with path.open("rb") as file:
        riff = file.read(12)
        if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            return None
        rate = block_align = 0
        while len(header := file.read(8)) == 8:
            chunk, size = header[:4], int.from_bytes(header[4:], "little")
            if chunk == b"data":
                # 0 and 0xFFFFFFFF are what writers leave that never learnt the length (a live stream).
                if not rate or not block_align or size in (0, 0xFFFFFFFF):
                    return None
                return size // block_align / rate
            body = file.read(16) if chunk == b"fmt " else b""
            if len(body) == 16:
                rate = int.from_bytes(body[4:8], "little")
                block_align = int.from_bytes(body[12:14], "little")
            # Chunks are padded to an even length.
            file.seek(size + size % 2 - len(body), os.SEEK_CUR)
    return None


def _soundfile_blocks(file: sf.SoundFile) -> Iterator[np.ndarray]:
    # Read until libsndfile stops rather than trusting the header's frame count.
    while len(block := file.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)):
        yield block


def _open_with_pyav(path: Path, stack: ExitStack) -> _Source:
    container = stack.enter_context(av.open(str(path), options=_PYAV_OPTIONS, metadata_errors="replace"))
    if not container.streams.audio:
        raise UndecodableAudio("the file has no audio stream")
    stream = container.streams.audio[0]
    context = stream.codec_context
    duration = _pyav_duration(container, stream)
    info = _checked(
        AudioInfo(
            container=_PYAV_CONTAINERS.get(container.format.name, container.format.name.split(",")[0]),
            codec=context.codec.canonical_name,
            sample_rate=context.sample_rate,
            channels=context.channels,
            duration_s=duration,
            declared_duration_s=duration,
        )
    )
    blocks = _pyav_blocks(container, stream, info.sample_rate)
    first = next(blocks, None)
    if first is None:
        raise EmptyAudio()
    return _Source(info, first, blocks)


def _pyav_duration(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _pyav_blocks(
    container: av.container.InputContainer, stream: av.AudioStream, rate: int
) -> Iterator[np.ndarray]:
    # Packed float turns every sample format (s16, s32p, fltp, ...) into one reshape. Pinning the rate
    # holds blocks to the rate probe reported, should a stream (HE-AAC, say) change it mid-way. Whole
    # blocks rather than codec frames of a few hundred samples keep per-call overhead off the profile.
    to_float = av.AudioResampler(format="flt", rate=rate, frame_size=_BLOCK_FRAMES)
    for packet in container.demux(stream):
        for frame in packet.decode():
            yield from _frames_to_blocks(to_float.resample(frame))
    yield from _frames_to_blocks(to_float.resample(None))


def _frames_to_blocks(frames: list[av.AudioFrame]) -> Iterator[np.ndarray]:
    for frame in frames:
        if frame.samples:
            yield frame.to_ndarray().reshape(-1, frame.layout.nb_channels)


def _checked(info: AudioInfo) -> AudioInfo:
    if not 0 < info.sample_rate <= MAX_SAMPLE_RATE:
        raise UndecodableAudio(f"implausible sample rate {info.sample_rate} Hz")
    if not 0 < info.channels <= MAX_CHANNELS:
        raise UndecodableAudio(f"implausible channel count {info.channels}")
    return info
