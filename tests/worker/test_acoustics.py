"""Acoustic features measured on synthetic audio whose pitch, level and rhythm are known."""

from __future__ import annotations

import numpy as np
import pytest

from shared.schemas.results import MFCC_COEFFICIENTS, Classification, Score, Segment
from worker.acoustics.summary import describe, summarise, syllable_nuclei
from worker.acoustics.tracks import TrackExtractor, Tracks

RATE = 16000
SILENCE_DBFS = -50.0


def measure(samples: np.ndarray, block: int = 4000) -> Tracks:
    extractor = TrackExtractor(RATE, silence_dbfs=SILENCE_DBFS)
    for start in range(0, len(samples), block):
        extractor.feed(samples[start : start + block])
    return extractor.finish()


def whole(samples: np.ndarray):
    tracks = measure(samples)
    return summarise(tracks, syllable_nuclei(tracks), 0.0, len(samples) / RATE)


def sine(seconds: float, freq: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("freq", [110.0, 220.0, 330.0])
def test_a_tone_has_its_pitch_voiced_throughout(freq: float) -> None:
    features = whole(sine(2.0, freq))
    assert features.pitch_median_hz == pytest.approx(freq, rel=0.01)
    assert features.pitch_range_st is not None and features.pitch_range_st < 0.2
    assert features.voiced_share == 1.0


def test_a_half_scale_sine_is_six_db_below_a_full_scale_one() -> None:
    # RMS re full scale: a full-scale sine reads -3.01 dBFS, half of it -9.03.
    assert whole(sine(2.0, 220.0, amplitude=1.0)).loudness_dbfs == pytest.approx(-3.01, abs=0.05)
    assert whole(sine(2.0, 220.0, amplitude=0.5)).loudness_dbfs == pytest.approx(-9.03, abs=0.05)


def test_silence_is_unvoiced_and_has_no_spectrum() -> None:
    features = whole(np.zeros(2 * RATE, dtype=np.float32))
    assert features.voiced_share == 0.0
    assert features.pitch_median_hz is None
    assert features.loudness_dbfs == -120.0
    assert features.spectral_centroid_hz is None and features.mfcc is None
    assert features.syllable_rate == 0.0


def test_noise_is_unvoiced() -> None:
    noise = (0.1 * np.random.default_rng(0).standard_normal(2 * RATE)).astype(np.float32)
    features = whole(noise)
    assert features.voiced_share < 0.05
    # White noise spreads evenly up to Nyquist: its centroid sits near the middle.
    assert features.spectral_centroid_hz == pytest.approx(RATE / 4, rel=0.05)


def test_the_spectral_centroid_of_a_tone_is_its_frequency() -> None:
    assert whole(sine(2.0, 1000.0)).spectral_centroid_hz == pytest.approx(1000.0, rel=0.02)


def test_syllable_rate_counts_the_bursts_of_a_voiced_rhythm() -> None:
    # A 150 Hz voice swelling four times a second, like syllables at a brisk speaking rate.
    t = np.arange(4 * RATE) / RATE
    swell = 0.5 - 0.5 * np.cos(2 * np.pi * 4.0 * t)
    features = whole((0.5 * swell * np.sin(2 * np.pi * 150.0 * t)).astype(np.float32))
    assert features.syllable_rate == pytest.approx(4.0, abs=0.3)
    assert features.pitch_median_hz == pytest.approx(150.0, rel=0.01)
    # Peaks far above the quiet troughs: a wide loudness range, unlike a steady tone's.
    assert features.loudness_range_db is not None and features.loudness_range_db > 10.0


def test_mfcc_means_have_the_fixed_count() -> None:
    features = whole(sine(1.0, 220.0))
    assert features.mfcc is not None and len(features.mfcc) == MFCC_COEFFICIENTS


@pytest.mark.parametrize("block", [160, 3331, 100_000])
def test_tracks_do_not_depend_on_how_the_audio_arrives(block: int) -> None:
    rng = np.random.default_rng(1)
    audio = np.concatenate([sine(3.0, 180.0), 0.05 * rng.standard_normal(3 * RATE).astype(np.float32)])
    reference, chunked = measure(audio, block=len(audio)), measure(audio, block=block)
    assert len(chunked.level_dbfs) == len(reference.level_dbfs) == 1 + (len(audio) - 640) // 160
    np.testing.assert_allclose(chunked.level_dbfs, reference.level_dbfs, atol=1e-6)
    np.testing.assert_allclose(chunked.f0_hz, reference.f0_hz, atol=1e-3)
    np.testing.assert_allclose(chunked.mfcc, reference.mfcc, atol=1e-3)


def test_each_segment_describes_its_own_stretch() -> None:
    audio = np.concatenate([sine(2.0, 120.0), np.zeros(2 * RATE, dtype=np.float32), sine(2.0, 240.0)])
    score = Score(label="neutral", score=1.0)
    segments = [
        Segment(start_s=0.0, end_s=2.0, dominant=score, scores=[score]),
        Segment(start_s=2.0, end_s=4.0, silent=True),
        Segment(start_s=4.0, end_s=6.0, dominant=score, scores=[score]),
    ]
    described = describe(Classification(dominant=score, scores=[score], segments=segments), measure(audio))
    first, pause, last = (segment.features for segment in described.segments)
    assert first is not None and first.pitch_median_hz == pytest.approx(120.0, rel=0.01)
    # Only the frame straddling the tone's end (40 ms long, centred just past 2 s) hears it.
    assert pause is not None and pause.voiced_share <= 0.01
    assert last is not None and last.pitch_median_hz == pytest.approx(240.0, rel=0.01)
    assert described.features is not None
    assert described.features.voiced_share == pytest.approx(2 / 3, abs=0.02)
    # An octave apart: the whole recording's range spans about twelve semitones.
    assert described.features.pitch_range_st == pytest.approx(12.0, abs=0.5)


def test_audio_shorter_than_a_frame_has_no_frames() -> None:
    features = whole(sine(0.02, 220.0))
    assert features.voiced_share == 0.0 and features.loudness_dbfs is None
