import numpy as np
import pytest
import torch
from transformers import Wav2Vec2FeatureExtractor

from worker.training.augment import (
    AugmentSettings,
    add_noise,
    apply_gain,
    augment,
    change_speed,
    change_tempo,
    normalise,
    random_crop,
)
from worker.training.dataset import CropBatches, class_weights

RATE = 16000


def voice(seconds: float, seed: int = 0) -> np.ndarray:
    """A peak-normalised harmonic tone with a little noise, standing in for a clip."""
    t = np.arange(round(seconds * RATE)) / RATE
    wave = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t)
    wave += 0.05 * np.random.default_rng(seed).standard_normal(len(t))
    return (wave / np.abs(wave).max()).astype(np.float32)


def test_crop_of_a_long_clip_is_all_audio() -> None:
    crop, mask = random_crop(voice(3.0), 24000, np.random.default_rng(0))

    assert crop.shape == mask.shape == (24000,)
    assert mask.all()


def test_crop_of_a_short_clip_pads_with_silence_and_masks_the_padding() -> None:
    wave = voice(1.0)
    crop, mask = random_crop(wave, 24000, np.random.default_rng(0))

    assert mask[:16000].all() and not mask[16000:].any()
    np.testing.assert_array_equal(crop[:16000], wave)
    assert not crop[16000:].any()


@pytest.mark.parametrize("seconds", [0.6, 1.5, 4.0])
def test_augmented_crop_has_fixed_shape_finite_values_and_silent_padding(seconds: float) -> None:
    crop, mask = augment(voice(seconds), AugmentSettings(), RATE, np.random.default_rng(1))

    assert crop.shape == mask.shape == (24000,)
    assert crop.dtype == np.float32
    assert np.isfinite(crop).all()
    assert not crop[mask == 0].any()
    valid = crop[mask == 1]
    assert abs(valid.mean()) < 1e-3 and valid.std() == pytest.approx(1.0, abs=1e-3)


def test_augmentation_is_reproducible_from_the_seed() -> None:
    first = augment(voice(3.0), AugmentSettings(), RATE, np.random.default_rng(7))
    second = augment(voice(3.0), AugmentSettings(), RATE, np.random.default_rng(7))

    np.testing.assert_array_equal(first[0], second[0])


def test_speed_change_shortens_or_lengthens_the_clip() -> None:
    wave = voice(2.0)

    assert len(change_speed(wave, 1.1, RATE)) == pytest.approx(len(wave) / 1.1, abs=2)
    assert len(change_speed(wave, 0.9, RATE)) == pytest.approx(len(wave) / 0.9, abs=2)


def peak_hz(wave: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return float(np.fft.rfftfreq(len(wave), 1 / RATE)[spectrum.argmax()])


def test_tempo_change_keeps_the_pitch_and_speed_change_moves_it() -> None:
    wave = voice(2.0)

    faster = change_tempo(wave, 1.25)
    higher = change_speed(wave, 1.25, RATE)

    assert len(faster) == pytest.approx(len(wave) / 1.25, abs=512)
    assert peak_hz(faster) == pytest.approx(180, abs=3)
    assert peak_hz(higher) == pytest.approx(225, abs=3)


def test_a_tempo_range_of_zero_moves_the_pitch_and_keeps_the_duration() -> None:
    wave = voice(2.0)
    pitch_only = AugmentSettings(crop_seconds=3.0, speed_range=0.2, tempo_range=0.0, noise_probability=0.0)
    with_tempo = AugmentSettings(crop_seconds=3.0, speed_range=0.2, noise_probability=0.0)

    pitched = [augment(wave, pitch_only, RATE, np.random.default_rng(seed)) for seed in range(4)]
    sped = [augment(wave, with_tempo, RATE, np.random.default_rng(seed)) for seed in range(4)]

    assert all(abs(int(mask.sum()) - len(wave)) <= 512 for _, mask in pitched)
    assert max(abs(peak_hz(crop[mask == 1]) - 180) for crop, mask in pitched) > 10
    assert max(abs(int(mask.sum()) - len(wave)) for _, mask in sped) > 2000


def test_noise_lands_at_the_requested_snr_and_spares_the_padding() -> None:
    crop, mask = random_crop(voice(1.0), 24000, np.random.default_rng(0))
    noisy = add_noise(crop, mask, 10.0, np.random.default_rng(0))

    noise = (noisy - crop)[:16000]
    snr = 10 * np.log10(np.mean(crop[:16000] ** 2) / np.mean(noise**2))
    assert snr == pytest.approx(10.0, abs=0.5)
    assert not noisy[16000:].any()


def test_gain_clips_at_full_scale() -> None:
    assert np.abs(apply_gain(voice(1.0), 12.0)).max() == pytest.approx(1.0)


def test_normalisation_matches_the_feature_extractor_the_service_uses() -> None:
    crop, mask = random_crop(0.3 * voice(1.0), 24000, np.random.default_rng(0))
    extractor = Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True)

    expected = extractor(
        [crop[:16000]], sampling_rate=RATE, padding="max_length", max_length=24000, return_tensors="np"
    )
    np.testing.assert_allclose(normalise(crop, mask), expected["input_values"][0], atol=1e-5)
    np.testing.assert_array_equal(mask, expected["attention_mask"][0])


def test_an_epoch_visits_every_clip_crops_per_clip_times() -> None:
    waves = [voice(1.0 + i, seed=i) for i in range(5)]
    batches = CropBatches(
        waves,
        [0, 1, 2, 0, 1],
        batch_size=4,
        crops_per_clip=2,
        sampling_rate=RATE,
        settings=AugmentSettings(),
        rng=np.random.default_rng(0),
    )

    seen = list(batches)

    assert len(seen) == len(batches) == 3
    assert sum(len(b.labels) for b in seen) == 10
    assert torch.bincount(torch.cat([b.labels for b in seen])).tolist() == [4, 4, 2]
    assert all(b.input_values.shape == b.attention_mask.shape == (len(b.labels), 24000) for b in seen)


def test_class_weights_balance_the_loss_and_skip_absent_classes() -> None:
    weights = class_weights([0, 0, 0, 1], 3)

    assert weights.tolist() == pytest.approx([4 / 9, 4 / 3, 0.0])
