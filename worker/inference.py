"""Speech-emotion inference, organised like a transformers pipeline: preprocess -> forward -> postprocess.

The classifier is loaded once per worker process and serves every job that process runs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

from shared.errors import AudioError, ModelError
from shared.schemas.results import Classification, Segment, sorted_scores
from worker.windowing import Window, count_windows, level_dbfs, slide_windows, weighted_mean

log = logging.getLogger(__name__)

DEFAULT_WINDOW_SECONDS = 8.0
ProgressCallback = Callable[[float], bool]


class InferenceStopped(Exception):
    """The progress callback asked to stop (the job was cancelled or its lease lost)."""


@dataclass(frozen=True)
class ModelIdentity:
    id: str
    revision: str


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def identify(model: str, config_commit: str | None) -> ModelIdentity:
    """A local checkpoint is named by its folder and revised by its weights' hash; a hub one by its commit."""
    path = Path(model)
    if path.is_dir():
        weights = next((p for p in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin"))), None)
        if weights is None:
            return ModelIdentity(id=path.name, revision="unknown")
        # Streamed in chunks: weights can be gigabytes, and only the digest is needed.
        with weights.open("rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()
        return ModelIdentity(id=path.name, revision=digest[:12])
    return ModelIdentity(id=model, revision=config_commit or "unknown")


def min_input_samples(config: object) -> int:
    """The receptive field of the convolutional feature encoder: shorter input yields no frames at all."""
    samples = 1
    for kernel, stride in reversed(list(zip(config.conv_kernel, config.conv_stride, strict=True))):
        samples = (samples - 1) * stride + kernel
    return samples


class AudioClassifier:
    def __init__(
        self,
        model: torch.nn.Module,
        feature_extractor: object,
        identity: ModelIdentity,
        *,
        device: torch.device,
        batch_size: int,
        window_seconds: float,
        hop_seconds: float,
        silence_dbfs: float,
    ) -> None:
        self.model = model
        self.feature_extractor = feature_extractor
        self.identity = identity
        self.device = device
        self.dtype = next(model.parameters()).dtype
        self.batch_size = batch_size
        self.sampling_rate: int = feature_extractor.sampling_rate
        self.labels: list[str] = [model.config.id2label[i] for i in range(model.config.num_labels)]
        self.window = round(window_seconds * self.sampling_rate)
        self.hop = round(hop_seconds * self.sampling_rate)
        self.silence_dbfs = silence_dbfs
        self.min_samples = min_input_samples(model.config)
        # Padding with a mask is exact only when the conv encoder normalises per frame (layer norm);
        # group norm sees the padded zeros, so there windows of different lengths never share a batch.
        self.pad_with_mask = bool(getattr(feature_extractor, "return_attention_mask", False)) and (
            getattr(model.config, "feat_extract_norm", "group") == "layer"
        )

    @property
    def model_id(self) -> str:
        return self.identity.id

    @property
    def revision(self) -> str:
        return self.identity.revision

    @classmethod
    def load(
        cls,
        model: str,
        *,
        device: str = "auto",
        revision: str | None = None,
        batch_size: int = 8,
        window_seconds: float | None = None,
        hop_seconds: float | None = None,
        silence_dbfs: float = -50.0,
    ) -> AudioClassifier:
        torch_device = resolve_device(device)
        feature_extractor = AutoFeatureExtractor.from_pretrained(model, revision=revision)
        network = AutoModelForAudioClassification.from_pretrained(model, revision=revision)
        network.eval().to(torch_device)
        if torch_device.type == "cuda":
            network.half()
        config = network.config
        window_s = window_seconds or getattr(config, "emoq_window_seconds", None) or DEFAULT_WINDOW_SECONDS
        hop_s = hop_seconds or getattr(config, "emoq_hop_seconds", None) or window_s
        return cls(
            network,
            feature_extractor,
            identify(model, getattr(config, "_commit_hash", None)),
            device=torch_device,
            batch_size=batch_size,
            window_seconds=window_s,
            hop_seconds=hop_s,
            silence_dbfs=silence_dbfs,
        )

    def classify(
        self,
        audio: np.ndarray | Iterable[np.ndarray],
        on_progress: ProgressCallback | None = None,
        *,
        expected_samples: int | None = None,
    ) -> Classification:
        """Score a waveform, or a stream of consecutive blocks (read as they come, never held whole).

        ``expected_samples`` (a stream's length, if known) lets progress be reported as a fraction.
        Near-silent windows are marked, not scored; audio that is silent throughout has no emotion
        to report and raises ``AudioError`` with code ``no_speech``.
        """
        if isinstance(audio, np.ndarray):
            audio, expected_samples = [audio], len(audio)
        expected = count_windows(expected_samples, self.window, self.hop) if expected_samples else None
        windows: list[Window] = []
        probabilities: dict[Window, np.ndarray] = {}
        batch: list[tuple[Window, np.ndarray]] = []

        def run_batch() -> None:
            rows = self._forward([samples for _, samples in batch])
            probabilities.update(zip((w for w, _ in batch), rows, strict=True))
            batch.clear()
            seen = len(windows) / expected if expected else 0.0
            if on_progress is not None and not on_progress(min(seen, 1.0)):
                raise InferenceStopped

        for window, samples in slide_windows(audio, self.window, self.hop):
            windows.append(window)
            if level_dbfs(samples) < self.silence_dbfs:
                continue
            if batch and not self.pad_with_mask and window.length != batch[0][0].length:
                run_batch()
            batch.append((window, samples))
            if len(batch) == self.batch_size:
                run_batch()
        if batch:
            run_batch()
        if not probabilities:
            raise AudioError("the recording is silent throughout: no speech to score", code="no_speech")
        return self._postprocess(windows, probabilities)

    def _forward(self, clips: list[np.ndarray]) -> np.ndarray:
        try:
            return self._forward_once(clips)
        except torch.cuda.OutOfMemoryError as exc:
            # Halve the batch rather than retry the same allocation forever.
            torch.cuda.empty_cache()
            if len(clips) == 1:
                raise ModelError("out of GPU memory on a single window", code="out_of_memory") from exc
            half = len(clips) // 2
            log.warning("CUDA out of memory on %d windows; splitting the batch", len(clips))
            return np.concatenate([self._forward(clips[:half]), self._forward(clips[half:])])

    def _forward_once(self, clips: list[np.ndarray]) -> np.ndarray:
        clips = [np.pad(c, (0, self.min_samples - len(c))) if len(c) < self.min_samples else c for c in clips]
        inputs = self.feature_extractor(
            clips,
            sampling_rate=self.sampling_rate,
            padding=True,
            return_attention_mask=self.pad_with_mask,
            return_tensors="pt",
        )
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        inputs["input_values"] = inputs["input_values"].to(self.dtype)
        with torch.inference_mode():
            logits = self.model(**inputs).logits
        return torch.softmax(logits.float(), dim=-1).cpu().numpy()

    def _postprocess(self, windows: list[Window], probabilities: dict[Window, np.ndarray]) -> Classification:
        segments = []
        for window in windows:
            start_s, end_s = window.start / self.sampling_rate, window.end / self.sampling_rate
            row = probabilities.get(window)
            if row is None:
                segments.append(Segment(start_s=start_s, end_s=end_s, silent=True))
                continue
            scores = sorted_scores(self.labels, row.tolist())
            segments.append(Segment(start_s=start_s, end_s=end_s, dominant=scores[0], scores=scores))
        scored = list(probabilities)
        lengths = np.array([w.length for w in scored])
        mean = weighted_mean(np.stack([probabilities[w] for w in scored]), lengths)
        scores = sorted_scores(self.labels, mean.tolist())
        return Classification(dominant=scores[0], scores=scores, segments=segments)
