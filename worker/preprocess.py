"""Preprocess: a waveform cut into analysis windows, each turned into the model's input features.

Knows the feature extractor and nothing of the network: the same code serves raw-waveform encoders
(wav2vec2, HuBERT, WavLM) and spectrogram ones (AST, Whisper), because the extractor says what it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from worker.windowing import Window, level_dbfs, slide_windows

# Spectrogram front ends (kaldi fbank, as AST's) frame the audio in 25 ms windows: shorter input has none.
SPECTROGRAM_FRAME_SECONDS = 0.025
# AST's fbank advances 10 ms per frame; its extractor pads or cuts every input to max_length frames.
SPECTROGRAM_HOP_SECONDS = 0.010

Features = dict[str, torch.Tensor]


@dataclass(frozen=True)
class WindowFeatures:
    """One analysis window ready for a forward pass; ``features`` is None for a near-silent window."""

    window: Window
    features: Features | None


def min_input_samples(config: object, feature_extractor: object) -> int:
    """The fewest samples that give the model at least one frame.

    A convolutional feature encoder needs its receptive field; a spectrogram front end needs one
    analysis frame. Any audio-classification checkpoint answers one or the other.
    """
    kernels, strides = getattr(config, "conv_kernel", None), getattr(config, "conv_stride", None)
    if kernels and strides:
        samples = 1
        for kernel, stride in reversed(list(zip(kernels, strides, strict=True))):
            samples = (samples - 1) * stride + kernel
        return samples
    rate = feature_extractor.sampling_rate
    return max(int(getattr(feature_extractor, "n_fft", 0)), round(SPECTROGRAM_FRAME_SECONDS * rate))


def max_window_samples(feature_extractor: object) -> int | None:
    """The most audio the extractor keeps: Whisper pads or cuts to ``n_samples``, AST to ``max_length``
    frames. A longer window would be silently truncated, so windows are capped to this."""
    if n_samples := getattr(feature_extractor, "n_samples", None):
        return int(n_samples)
    if getattr(feature_extractor, "feature_size", 1) > 1 and (
        frames := getattr(feature_extractor, "max_length", 0)
    ):
        hop = round(SPECTROGRAM_HOP_SECONDS * feature_extractor.sampling_rate)
        frame = round(SPECTROGRAM_FRAME_SECONDS * feature_extractor.sampling_rate)
        return (int(frames) - 1) * hop + frame
    return None


class Preprocessor:
    def __init__(
        self,
        feature_extractor: object,
        *,
        window: int,
        hop: int,
        min_samples: int,
        silence_dbfs: float,
    ) -> None:
        self.feature_extractor = feature_extractor
        self.sampling_rate: int = feature_extractor.sampling_rate
        self.window = window
        self.hop = hop
        self.min_samples = min_samples
        self.silence_dbfs = silence_dbfs

    def windows(self, blocks: Iterable[np.ndarray]) -> Iterator[WindowFeatures]:
        """Every window of a stream of blocks, in order; silent ones marked, not featurised."""
        for window, samples in slide_windows(blocks, self.window, self.hop):
            if level_dbfs(samples) < self.silence_dbfs:
                yield WindowFeatures(window, None)
            else:
                yield WindowFeatures(window, self.features(samples))

    def features(self, samples: np.ndarray) -> Features:
        """The extractor's output for one window, without a batch dimension and without a mask (the
        forward pass builds masks for the batch it assembles)."""
        if len(samples) < self.min_samples:
            samples = np.pad(samples, (0, self.min_samples - len(samples)))
        encoded = self.feature_extractor(samples, sampling_rate=self.sampling_rate, return_tensors="pt")
        return {name: value[0] for name, value in encoded.items() if name != "attention_mask"}
