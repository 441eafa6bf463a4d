"""probe() and decode_to_mono() on real encoded files, and on the garbage an upload endpoint receives."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from shared.audio import MIN_AUDIO_SECONDS, AudioInfo, decode_to_mono, falls_short, probe
from shared.errors import AudioError, AudioTooLong, AudioTooShort, EmptyAudio, UndecodableAudio
from tests.audio_factory import FORMATS, tone, write_tone
from tests.bad_audio import write_cut_in_half, write_lying_wav

TARGET_RATE = 16000
# Encoders pad: AAC primes 1024+ samples, vorbis rounds to its block size.
LENGTH_TOLERANCE_S = 0.1
OPUS_FORMATS = {"opus", "webm"}  # opus always decodes at 48 kHz, whatever went in


def dominant_frequency(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1 / rate)[np.argmax(spectrum)])


def decode(path: Path, *, max_seconds: float = 30.0) -> np.ndarray:
    return decode_to_mono(path, target_rate=TARGET_RATE, max_seconds=max_seconds)


def assert_refused(path: Path, error: type[AudioError], *, max_seconds: float = 30.0) -> None:
    """Both entry points must refuse, with exactly this class: the API and the worker share a vocabulary."""
    for attempt in (
        lambda: probe(path, max_seconds=max_seconds),
        lambda: decode(path, max_seconds=max_seconds),
    ):
        with pytest.raises(AudioError) as caught:
            attempt()
        assert caught.type is error
        assert caught.value.code == error.code


@pytest.mark.parametrize("fmt", FORMATS)
def test_probe_describes_each_format(tmp_path: Path, fmt: str) -> None:
    spec = FORMATS[fmt]
    path = write_tone(tmp_path / f"tone{spec.suffix}", fmt=fmt, seconds=1.0)

    info = probe(path, max_seconds=30)

    assert (info.container, info.codec, info.channels) == (spec.container, spec.codec, 1)
    assert info.sample_rate == (48000 if fmt in OPUS_FORMATS else 16000)
    if fmt == "webm":
        assert info.duration_s is None  # muxed like a browser recording: the container does not say
    else:
        assert info.duration_s == pytest.approx(1.0, abs=LENGTH_TOLERANCE_S)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("channels", [1, 2])
def test_decode_keeps_length_and_pitch(tmp_path: Path, fmt: str, channels: int) -> None:
    path = write_tone(tmp_path / f"tone{FORMATS[fmt].suffix}", fmt=fmt, channels=channels, freq=440.0)

    audio = decode(path)

    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert len(audio) / TARGET_RATE == pytest.approx(1.0, abs=LENGTH_TOLERANCE_S)
    assert dominant_frequency(audio, TARGET_RATE) == pytest.approx(440.0, abs=3)
    assert 0.3 < np.abs(audio).max() <= 1.0


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "m4a"])
@pytest.mark.parametrize("source_rate", [44100, 8000])
def test_decode_resamples_to_target_rate(tmp_path: Path, fmt: str, source_rate: int) -> None:
    path = write_tone(tmp_path / f"tone{FORMATS[fmt].suffix}", fmt=fmt, sample_rate=source_rate, freq=1000.0)
    assert probe(path, max_seconds=30).sample_rate == source_rate

    audio = decode(path)

    assert len(audio) / TARGET_RATE == pytest.approx(1.0, abs=2 * LENGTH_TOLERANCE_S)
    assert dominant_frequency(audio, TARGET_RATE) == pytest.approx(1000.0, abs=3)


def test_stereo_is_mixed_by_channel_mean(tmp_path: Path) -> None:
    left = tone(1.0, TARGET_RATE)[:, 0]
    path = tmp_path / "half.wav"
    sf.write(path, np.stack([left, np.zeros_like(left)], axis=1), TARGET_RATE, subtype="FLOAT")

    np.testing.assert_allclose(decode(path), left / 2, atol=1e-7)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32"])
def test_integer_pcm_maps_to_unit_range(tmp_path: Path, subtype: str) -> None:
    path = tmp_path / "extremes.wav"
    # Repeated to last longer than the shortest audio accepted.
    extremes = np.tile([-1.0, -0.5, 0.0, 0.5, 0.99], 1000)
    sf.write(path, extremes, TARGET_RATE, subtype=subtype)

    audio = decode(path)

    np.testing.assert_allclose(audio, extremes, atol=1 / 64)
    assert audio.min() >= -1.0
    assert audio.max() <= 1.0


def test_wav_truncated_in_its_data_decodes_what_is_there(tmp_path: Path) -> None:
    whole = write_tone(tmp_path / "whole.wav", fmt="wav").read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(whole[: 44 + 2 * 5000])  # 44-byte header, then 5000 16-bit samples

    assert len(decode(path)) == 5000


def test_wav_whose_header_gives_no_data_size_is_read_to_the_end(tmp_path: Path) -> None:
    # What a recorder that died before finishing its header leaves behind.
    data = bytearray(write_tone(tmp_path / "whole.wav", fmt="wav").read_bytes())
    assert data[36:40] == b"data"
    data[40:44] = struct.pack("<I", 0)
    path = tmp_path / "unfinished.wav"
    path.write_bytes(bytes(data))

    audio = decode(path)

    assert len(audio) == TARGET_RATE
    assert np.abs(audio).max() == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize("fmt", FORMATS)
def test_less_than_a_quarter_second_is_too_short(tmp_path: Path, fmt: str) -> None:
    path = write_tone(tmp_path / f"click{FORMATS[fmt].suffix}", fmt=fmt, seconds=0.1)

    assert_refused(path, AudioTooShort)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_quarter_second_is_enough(tmp_path: Path, fmt: str) -> None:
    path = write_tone(tmp_path / f"short{FORMATS[fmt].suffix}", fmt=fmt, seconds=MIN_AUDIO_SECONDS)

    probe(path, max_seconds=30)
    assert len(decode(path)) >= MIN_AUDIO_SECONDS * TARGET_RATE


def test_wav_claiming_gigabytes_but_holding_bytes_is_too_short(tmp_path: Path) -> None:
    path = write_lying_wav(tmp_path / "claims.wav", seconds_present=100 / 32000, declared_bytes=2**31)

    assert_refused(path, AudioTooShort)


@pytest.mark.parametrize("fmt", FORMATS)
def test_whole_files_do_not_fall_short_of_their_header(tmp_path: Path, fmt: str) -> None:
    path = write_tone(tmp_path / f"whole{FORMATS[fmt].suffix}", fmt=fmt, seconds=3.0)

    info = probe(path, max_seconds=30)

    assert not falls_short(info.declared_duration_s, len(decode(path)) / TARGET_RATE)


def test_wav_whose_header_claims_more_than_it_holds_falls_short(tmp_path: Path) -> None:
    path = write_lying_wav(tmp_path / "cut.wav", seconds_present=2.0, declared_bytes=10 * 32000)

    info = probe(path, max_seconds=30)
    decoded_s = len(decode(path)) / TARGET_RATE

    assert info.declared_duration_s == pytest.approx(10.0)
    assert decoded_s == pytest.approx(2.0, abs=0.01)
    assert falls_short(info.declared_duration_s, decoded_s)


def test_mp3_cut_in_half_falls_short(tmp_path: Path) -> None:
    path = write_cut_in_half(tmp_path / "half.mp3", fmt="mp3", seconds=4.0)

    info = probe(path, max_seconds=30)
    decoded_s = len(decode(path)) / TARGET_RATE

    assert info.declared_duration_s == pytest.approx(4.0, abs=0.1)
    assert decoded_s == pytest.approx(2.0, abs=0.3)
    assert falls_short(info.declared_duration_s, decoded_s)


def test_a_wav_streamed_without_a_length_declares_none(tmp_path: Path) -> None:
    path = write_lying_wav(tmp_path / "live.wav", seconds_present=1.0, declared_bytes=0xFFFFFFFF)

    assert probe(path, max_seconds=30).declared_duration_s is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_too_long_is_refused_while_decoding(tmp_path: Path, fmt: str) -> None:
    path = write_tone(tmp_path / f"long{FORMATS[fmt].suffix}", fmt=fmt, seconds=2.0)

    with pytest.raises(AudioTooLong) as caught:
        decode(path, max_seconds=0.5)
    assert caught.value.code == "audio_too_long"


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"webm"}))
def test_too_long_is_refused_by_probe_when_the_header_says(tmp_path: Path, fmt: str) -> None:
    path = write_tone(tmp_path / f"long{FORMATS[fmt].suffix}", fmt=fmt, seconds=2.0)

    assert_refused(path, AudioTooLong, max_seconds=0.5)


def test_probe_passes_audio_of_unknown_length_and_decode_enforces_the_limit(tmp_path: Path) -> None:
    path = write_tone(tmp_path / "recording.webm", fmt="webm", seconds=2.0)

    assert probe(path, max_seconds=0.5).duration_s is None
    with pytest.raises(AudioTooLong):
        decode(path, max_seconds=0.5)


def _random(path: Path) -> None:
    path.write_bytes(np.random.default_rng(7).bytes(20_000))


def _text(path: Path) -> None:
    path.write_text("this is not audio\n" * 200)


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello " * 1000)


def _header_cut(path: Path) -> None:
    path.write_bytes(write_tone(path, fmt="wav").read_bytes()[:20])


def _wav_header_patch(offset: int, fmt: str, value: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        data = bytearray(write_tone(path, fmt="wav").read_bytes())
        data[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
        path.write_bytes(bytes(data))

    return make


def _nan_float_wav(path: Path) -> None:
    samples = tone(1.0, TARGET_RATE)[:, 0]
    samples[100] = np.nan
    sf.write(path, samples, TARGET_RATE, subtype="FLOAT")


def _inf_float_wav(path: Path) -> None:
    samples = tone(1.0, TARGET_RATE)[:, 0]
    samples[-1] = np.inf
    sf.write(path, samples, TARGET_RATE, subtype="FLOAT")


def _hls_playlist(path: Path) -> None:
    # FFmpeg would follow the segment it names; uploads must never make the decoder open other files.
    segment = write_tone(path.with_name("segment.wav"), fmt="wav")
    path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{segment}\n#EXT-X-ENDLIST\n")


def _m4a_with_garbage_payload(path: Path) -> None:
    # Headers intact, so the file opens; only decoding a frame shows that it is not audio.
    data = bytearray(write_tone(path, fmt="m4a").read_bytes())
    start, end = data.index(b"mdat") + 4, data.index(b"moov") - 4
    data[start:end] = np.random.default_rng(1).bytes(end - start)
    path.write_bytes(bytes(data))


def _corrupt_m4a(path: Path) -> None:
    data = bytearray(write_tone(path, fmt="m4a").read_bytes())
    data[len(data) // 3 : len(data) // 3 + 4000] = np.random.default_rng(3).bytes(4000)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("random.wav", _random),
        ("random.mp3", _random),
        ("notes.wav", _text),
        ("archive.ogg", _zip),
        ("cut.wav", _header_cut),
        ("rate0.wav", _wav_header_patch(24, "<I", 0)),
        ("rate_absurd.wav", _wav_header_patch(24, "<I", 1_000_000)),
        ("channels0.wav", _wav_header_patch(22, "<H", 0)),
        ("channels_absurd.wav", _wav_header_patch(22, "<H", 100)),
        ("nan.wav", _nan_float_wav),
        ("playlist.m3u8", _hls_playlist),
        ("garbage_payload.m4a", _m4a_with_garbage_payload),
    ],
)
def test_undecodable_input_is_refused(tmp_path: Path, name: str, make: Callable[[Path], None]) -> None:
    path = tmp_path / name
    make(path)

    assert_refused(path, UndecodableAudio)


def test_non_finite_samples_anywhere_are_refused_by_decode(tmp_path: Path) -> None:
    path = tmp_path / "inf.wav"
    _inf_float_wav(path)

    with pytest.raises(UndecodableAudio, match="NaN or infinite"):
        decode(path)


def test_corrupt_packets_are_refused_without_decoder_noise(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "corrupt.m4a"
    _corrupt_m4a(path)

    with pytest.raises(UndecodableAudio) as caught:
        decode(path)

    assert "Traceback" not in caught.value.message
    assert capfd.readouterr().err == ""


def test_zero_length_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "nothing.wav"
    path.write_bytes(b"")

    assert_refused(path, EmptyAudio)


def test_wav_with_no_samples_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros((0, 1), dtype=np.float32), TARGET_RATE)

    assert_refused(path, EmptyAudio)


def test_missing_file_is_not_blamed_on_the_audio(tmp_path: Path) -> None:
    # Storage lost the upload: that is our fault, so it must not end the job as undecodable_audio.
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "gone.wav", max_seconds=30)


def test_audio_info_is_a_frozen_value() -> None:
    info = AudioInfo("wav", "pcm_s16le", 16000, 1, 1.0)
    with pytest.raises(AttributeError):
        info.sample_rate = 8000  # type: ignore[misc]
