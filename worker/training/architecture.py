"""Which network is trained: a config preset built offline, or a local pretrained checkpoint to fine-tune."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

SAMPLING_RATE = 16000
WINDOW_SECONDS = 1.5
HOP_SECONDS = 1.0


def small_config(**overrides: object) -> Wav2Vec2Config:
    """The narrow encoder the feasibility study found best on ~300 clips (about 0.9 M parameters).

    Strides 5*4*4*4 = 320 samples give 20 ms frames at 16 kHz. Group norm in the first conv layer trained
    about twice as many epochs per minute as the stable layer-norm variant and did at least as well.
    """
    settings: dict[str, object] = {
        "conv_dim": (48, 64, 96, 128),
        "conv_kernel": (10, 8, 4, 4),
        "conv_stride": (5, 4, 4, 4),
        "feat_extract_norm": "group",
        "do_stable_layer_norm": False,
        "hidden_size": 160,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 512,
        "classifier_proj_size": 128,
        "vocab_size": 8,
    }
    settings.update(overrides)
    return Wav2Vec2Config(**settings)


def filterbank_config(bands: int = 40, **overrides: object) -> Wav2Vec2Config:
    """The small encoder behind conv layers that start as a short-time spectrum (``initialise_filterbank``).

    On a few hundred clips a raw-waveform front end learnt from scratch never finds the frequency
    analysis a log-mel front end is given, so this one starts from it: 25 ms filters every 10 ms, four
    per mel-spaced band, summed into band magnitudes, then halved to 20 ms frames as in ``small_config``.
    The first layer only passes the waveform through (see ``initialise_filterbank``), because wav2vec2's
    group norm normalises each channel of the first layer over time, which would give every band the
    same level whatever the voice put in it.
    """
    settings: dict[str, object] = {
        "conv_dim": (2, 4 * bands, 128, 128),
        "conv_kernel": (1, 400, 3, 3),
        "conv_stride": (1, 160, 1, 2),
        "emoq_filterbank_bands": bands,
    }
    settings.update(overrides)
    return small_config(**settings)


def mel_centres(bands: int, low_hz: float = 50.0, high_hz: float = 7600.0) -> np.ndarray:
    mel = np.linspace(2595 * np.log10(1 + low_hz / 700), 2595 * np.log10(1 + high_hz / 700), bands)
    return 700 * (10 ** (mel / 2595) - 1)


def initialise_filterbank(model: Wav2Vec2ForSequenceClassification) -> None:
    """Weights that make the conv layers of ``filterbank_config`` a spectrum analyser to start from.

    - Layer 0 gives x and -x; after its group norm (x is already normalised) and GELU, the next layer
      gets x back exactly as GELU(x) - GELU(-x).
    - Layer 1: Hann-windowed cosines and sines at mel-spaced centres, each with its negative. Its GELU
      turns each (y, -y) pair into about |y|.
    - Layer 2 sums a band's four channels: the band's magnitude whatever the phase, the envelope a
      spectrogram gives, which strided filters alone cannot (they alias).
    """
    bands = model.config.emoq_filterbank_bands
    through, analyse, combine = (layer.conv for layer in model.wav2vec2.feature_extractor.conv_layers[:3])
    length = analyse.kernel_size[0]
    t = (np.arange(length) - length / 2) / SAMPLING_RATE
    centres = mel_centres(bands)
    filters = []
    for centre, spacing in zip(centres, np.gradient(centres), strict=True):
        # As wide as the gap to the next band (a Hann window of 2/spacing seconds), so that the bands
        # tile the spectrum like a mel filterbank's; the low bands are capped at the kernel's 25 ms.
        span = min(length, round(2 * SAMPLING_RATE / spacing))
        window = np.zeros(length)
        window[(length - span) // 2 : (length - span) // 2 + span] = np.hanning(span)
        window /= np.sqrt(np.sum(window**2))
        cosine, sine = window * np.cos(2 * np.pi * centre * t), window * np.sin(2 * np.pi * centre * t)
        filters += [cosine, -cosine, sine, -sine]
    weight = np.stack(filters)
    sums = np.zeros(tuple(combine.weight.shape), dtype=np.float32)
    for band in range(min(bands, sums.shape[0])):
        sums[band, 4 * band : 4 * band + 4, :] = 1.0 / (4 * sums.shape[2])
    with torch.no_grad():
        through.weight.copy_(torch.tensor([[[1.0]], [[-1.0]]]))
        analyse.weight.copy_(torch.from_numpy(np.stack([weight, -weight], axis=1).astype(np.float32)))
        combine.weight[:bands].copy_(torch.from_numpy(sums[:bands]))


@dataclass(frozen=True)
class Preset:
    config: Callable[..., Wav2Vec2Config]
    initialise: Callable[[Wav2Vec2ForSequenceClassification], None] | None = None


PRESETS = {
    "small": Preset(small_config),
    "filterbank": Preset(filterbank_config, initialise_filterbank),
}


def feature_extractor() -> Wav2Vec2FeatureExtractor:
    return Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=SAMPLING_RATE,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=True,
    )


def label_maps(labels: list[str]) -> dict[str, dict]:
    return {"id2label": dict(enumerate(labels)), "label2id": {label: i for i, label in enumerate(labels)}}


def build_model(
    labels: list[str],
    *,
    preset: str | None = None,
    init_from: Path | None = None,
    window_seconds: float = WINDOW_SECONDS,
    hop_seconds: float = HOP_SECONDS,
    **overrides: object,
) -> Wav2Vec2ForSequenceClassification:
    """A fresh classification head over either a preset encoder (random weights) or a local checkpoint.

    ``overrides`` reach only the preset config; tests use them to build a tiny network.
    """
    if init_from is not None:
        # A local folder only: local_files_only keeps a typo from turning into a hub download.
        model = Wav2Vec2ForSequenceClassification.from_pretrained(
            init_from,
            num_labels=len(labels),
            ignore_mismatched_sizes=True,
            local_files_only=True,
            **label_maps(labels),
        )
        # Training moves the scores, so a temperature fitted to the base's would misstate them; and the
        # input conditioning is the plan's to choose, since it conditions the training clips to match.
        for key in ("emoq_temperature", "emoq_preprocessing"):
            if hasattr(model.config, key):
                delattr(model.config, key)
    else:
        chosen = PRESETS[preset or "small"]
        config = chosen.config(**overrides)
        config.num_labels = len(labels)
        config.id2label, config.label2id = label_maps(labels).values()
        model = Wav2Vec2ForSequenceClassification(config)
        if chosen.initialise is not None:
            chosen.initialise(model)
    # The service scores windows as long as the training crops, so the model sees at inference what it
    # learnt from.
    model.config.emoq_window_seconds = window_seconds
    model.config.emoq_hop_seconds = hop_seconds
    return model
