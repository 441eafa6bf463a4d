"""Input conditioning a checkpoint asks for: leading/trailing-silence trimming and loudness normalisation.

One function serves training (``emoq train`` conditions every training clip) and inference (the worker,
``emoq evaluate`` and in-training validation condition every recording), so a model only ever sees audio
conditioned one way. A checkpoint opts in with ``emoq_preprocessing`` in its config, for example
``{"trim_db": 30, "normalize": "peak"}``; without it audio passes through untouched, as before.

Trimming is relative to the recording's loudest frame and peak normalisation to its loudest sample, so
both need the whole recording: a conditioned recording is gathered in memory (at most
``EMOQ_MAX_AUDIO_SECONDS`` of it) before it is cut into windows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from worker.preprocess import WindowFeatures
from worker.windowing import Window

# The framing librosa.effects.trim uses by default (2048/512 at 22.05 kHz is 93/23 ms; at 16 kHz these
# are 128/32 ms): long enough that a stop consonant's closure is not mistaken for the end of speech.
TRIM_FRAME_SECONDS = 0.128
TRIM_HOP_SECONDS = 0.032
# A peak this low is digital silence: scaling it up would only amplify noise.
MIN_PEAK = 1e-4

Normalize = Literal["peak"]


@dataclass(frozen=True)
class Conditioning:
    trim_db: float | None = None  # frames this far below the loudest frame count as silence at the ends
    normalize: Normalize | None = None  # "peak": scale so the loudest sample reaches full scale

    @classmethod
    def from_config(cls, config: object) -> Conditioning | None:
        """What the checkpoint's ``emoq_preprocessing`` asks for; None when it asks for nothing."""
        spec = getattr(config, "emoq_preprocessing", None) or {}
        unknown = set(spec) - {"trim_db", "normalize"}
        if unknown:
            raise ValueError(f"unknown emoq_preprocessing key(s): {', '.join(sorted(unknown))}")
        if spec.get("normalize") not in (None, "peak"):
            raise ValueError(f"unknown emoq_preprocessing normalize: {spec['normalize']!r}")
        conditioning = cls(trim_db=spec.get("trim_db"), normalize=spec.get("normalize"))
        return conditioning if conditioning.active else None

    @property
    def active(self) -> bool:
        return self.trim_db is not None or self.normalize is not None

    def as_config(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    def speech_span(self, samples: np.ndarray, sampling_rate: int) -> tuple[int, int]:
        """``(start, end)`` of the audio between leading and trailing silence, in samples."""
        if self.trim_db is None or not samples.size:
            return 0, len(samples)
        return speech_span(samples, sampling_rate, self.trim_db)

    def apply(self, samples: np.ndarray, sampling_rate: int) -> tuple[np.ndarray, int]:
        """The conditioned samples and where they start in the original recording (in samples)."""
        start, end = self.speech_span(samples, sampling_rate)
        kept = samples[start:end]
        if self.normalize == "peak" and kept.size:
            peak = float(np.max(np.abs(kept)))
            if peak > MIN_PEAK:
                kept = kept * np.float32(1.0 / peak)
        return kept.astype(np.float32, copy=False), start


def speech_span(samples: np.ndarray, sampling_rate: int, top_db: float) -> tuple[int, int]:
    """The span from the first to the last frame whose RMS is within ``top_db`` of the loudest frame's,
    as ``librosa.effects.trim`` finds it (centred frames, the span ends where its last frame ends).
    Written out rather than imported: librosa would bring numba and llvmlite into the worker image for
    twenty lines of numpy. All-silent audio gives an empty span."""
    frame = round(TRIM_FRAME_SECONDS * sampling_rate)
    hop = round(TRIM_HOP_SECONDS * sampling_rate)
    padded = np.pad(samples.astype(np.float64), frame // 2)
    n_frames = 1 + max(len(padded) - frame, 0) // hop
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame)[::hop][:n_frames]
    rms = np.sqrt(np.mean(np.square(frames), axis=1))
    loudest = float(rms.max())
    if loudest <= 0.0:
        return 0, 0
    loud = np.flatnonzero(20.0 * np.log10(np.maximum(rms, 1e-10) / loudest) > -top_db)
    start = int(loud[0]) * hop
    end = min(len(samples), (int(loud[-1]) + 1) * hop)
    return start, end


def conditioned_windows(
    blocks: Iterable[np.ndarray],
    conditioning: Conditioning,
    sampling_rate: int,
    windows: Callable[[Iterable[np.ndarray]], Iterator[WindowFeatures]],
) -> Iterator[WindowFeatures]:
    """``windows`` over the conditioned recording, in the original recording's time base.

    Windows are cut from the trimmed audio, then moved by the trimmed lead so a segment's times still
    point into the file the client sent; the trimmed ends become silent (unscored) segments, so the
    timeline still covers the whole recording.
    """
    parts = list(blocks)
    recording = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    kept, start = conditioning.apply(recording, sampling_rate)
    if start > 0:
        yield WindowFeatures(Window(0, start), None)
    for item in windows([kept]):
        yield WindowFeatures(Window(item.window.start + start, item.window.end + start), item.features)
    end = start + len(kept)
    if kept.size and end < len(recording):
        yield WindowFeatures(Window(end, len(recording)), None)
