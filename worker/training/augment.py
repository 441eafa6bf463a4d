"""Training-time augmentation for speech emotion, in numpy.

EmoDB is peak-normalised and its clip length tracks the emotion (sad clips are about twice as long as fear
clips), so every crop is cut to one fixed length and re-normalised: the model sees neither duration nor
loudness and has to use the voice.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import soxr


@dataclass(frozen=True)
class AugmentSettings:
    crop_seconds: float = 1.5
    speed_range: float = 0.10  # speed factor drawn from [1 - r, 1 + r]: tempo and pitch change together
    # When set, the tempo is drawn on its own from [1 - r, 1 + r] and the speed moves only pitch and formants.
    tempo_range: float | None = None
    noise_probability: float = 0.8
    snr_db: tuple[float, float] = (5.0, 30.0)
    gain_db: tuple[float, float] = (-20.0, 6.0)


def change_speed(wave: np.ndarray, factor: float, sampling_rate: int) -> np.ndarray:
    """Play ``factor`` times faster (shorter, higher) by resampling and keeping the nominal rate."""
    if factor == 1.0:
        return wave
    return soxr.resample(wave, sampling_rate * factor, sampling_rate, quality="LQ").astype(np.float32)


def change_tempo(wave: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster at the same pitch and formants (librosa's phase vocoder)."""
    if factor == 1.0:
        return wave
    return librosa.effects.time_stretch(wave, rate=factor).astype(np.float32)


def random_crop(wave: np.ndarray, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A ``length``-sample crop at a random offset and its mask (1 = audio, 0 = padding).

    A shorter clip is kept whole and zero-padded at the end, where the service's batches pad too; the mask
    keeps the padding out of attention and pooling.
    """
    crop = np.zeros(length, dtype=np.float32)
    mask = np.zeros(length, dtype=np.int64)
    if len(wave) >= length:
        start = int(rng.integers(0, len(wave) - length + 1))
        crop[:] = wave[start : start + length]
        mask[:] = 1
    else:
        crop[: len(wave)] = wave
        mask[: len(wave)] = 1
    return crop, mask


def apply_gain(crop: np.ndarray, gain_db: float) -> np.ndarray:
    # Normalisation undoes a plain gain; what survives is the clipping a loud recording suffers.
    return np.clip(crop * np.float32(10.0 ** (gain_db / 20.0)), -1.0, 1.0)


def add_noise(crop: np.ndarray, mask: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at ``snr_db`` below the signal power of the unpadded part; padding stays silent."""
    valid = mask.astype(bool)
    power = float(np.mean(np.square(crop[valid], dtype=np.float64))) if valid.any() else 0.0
    if power <= 0.0:
        return crop
    noise = rng.standard_normal(len(crop)).astype(np.float32) * np.float32(
        np.sqrt(power / 10 ** (snr_db / 10))
    )
    return np.where(valid, crop + noise, 0.0).astype(np.float32)


def normalise(crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance over the unpadded part, padding at 0.

    The same arithmetic as ``Wav2Vec2FeatureExtractor(do_normalize=True)``, which the service applies to
    each window, so training and inference see identically scaled input.
    """
    valid = mask.astype(bool)
    out = np.zeros_like(crop, dtype=np.float32)
    if valid.any():
        part = crop[valid]
        out[valid] = (part - part.mean()) / np.sqrt(part.var() + 1e-7)
    return out


def augment(
    wave: np.ndarray, settings: AugmentSettings, sampling_rate: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One normalised training crop of a clip, and its mask."""
    factor = float(rng.uniform(1.0 - settings.speed_range, 1.0 + settings.speed_range))
    wave = change_speed(wave, factor, sampling_rate)
    if settings.tempo_range is not None:
        # Resampling sped the tempo up by ``factor`` too; stretch it back to a tempo drawn on its own.
        tempo = float(rng.uniform(1.0 - settings.tempo_range, 1.0 + settings.tempo_range))
        wave = change_tempo(wave, tempo / factor)
    crop, mask = random_crop(wave, round(settings.crop_seconds * sampling_rate), rng)
    crop = apply_gain(crop, float(rng.uniform(*settings.gain_db)))
    if rng.random() < settings.noise_probability:
        crop = add_noise(crop, mask, float(rng.uniform(*settings.snr_db)), rng)
    return normalise(crop, mask), mask
