"""The classifier a worker process holds: a checkpoint loaded once, as preprocess -> forward -> postprocess.

``preprocess`` knows the feature extractor, ``forward`` the network and its precision, ``postprocess``
the labels; any ``AutoModelForAudioClassification`` checkpoint fits, since no stage reads another's
configuration. ``classify`` runs one recording; ``worker.batching`` runs several through one batcher.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

from shared.results.interpretation import Interpretation
from shared.schemas.results import Classification
from worker.batcher import Batcher, Stream
from worker.conditioning import Conditioning, conditioned_windows
from worker.forward import BatchForward
from worker.postprocess import summarise
from worker.precision import TINY_MODEL_PARAMETERS, Precision, apply_precision, choose_precision
from worker.preprocess import (
    Features,
    Preprocessor,
    WindowFeatures,
    max_window_samples,
    min_input_samples,
)
from worker.windowing import count_windows

log = logging.getLogger(__name__)

DEFAULT_WINDOW_SECONDS = 8.0
ProgressCallback = Callable[[float], bool]


class InferenceStopped(Exception):
    """The progress callback asked to stop (the job was cancelled or its lease lost)."""


@dataclass(frozen=True)
class ModelIdentity:
    id: str
    revision: str
    precision: str = Precision.FP32.value


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def identify(model: str, config_commit: str | None, precision: Precision) -> ModelIdentity:
    """A local checkpoint is named by its folder and revised by the hash of its weights and its
    config.json (the temperature and input conditioning live there and change the scores); a hub one by
    its commit."""
    path = Path(model)
    if path.is_dir():
        weights = next((p for p in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin"))), None)
        if weights is None:
            return ModelIdentity(id=path.name, revision="unknown", precision=precision.value)
        digest = hashlib.sha256()
        for part in (weights, path / "config.json"):
            if part.is_file():
                # Streamed in chunks: weights can be gigabytes, and only the digest is needed.
                with part.open("rb") as file:
                    digest.update(hashlib.file_digest(file, "sha256").digest())
        return ModelIdentity(id=path.name, revision=digest.hexdigest()[:12], precision=precision.value)
    return ModelIdentity(id=model, revision=config_commit or "unknown", precision=precision.value)


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
        exact_padding: bool = False,
        parameters: int | None = None,
    ) -> None:
        """``exact_padding`` lets windows of different lengths share a pass where the network allows
        it exactly; it hooks the network's group norms, so only ``load`` (which owns the network) asks.
        ``parameters`` counts the network as saved (int8 packs its Linear weights out of sight)."""
        self.identity = identity
        self.device = device
        if parameters is None:
            parameters = sum(p.numel() for p in model.parameters())
        # Only where arithmetic dominates a pass do more threads make it faster: a tiny model's pass is
        # Python and memory traffic, and a second thread mostly waits at its barriers (docs/engine.md).
        self.borrows_idle_cores = device.type == "cpu" and parameters >= TINY_MODEL_PARAMETERS
        self.batch_size = batch_size
        self.sampling_rate: int = feature_extractor.sampling_rate
        self.labels: list[str] = [model.config.id2label[i] for i in range(model.config.num_labels)]
        self.conditioning = Conditioning.from_config(model.config)
        self.temperature = float(getattr(model.config, "emoq_temperature", None) or 1.0)
        self.model_config: dict[str, object] = model.config.to_dict()
        # Set by whoever knows the settings; without it results carry the scores alone.
        self.interpretation: Interpretation | None = None
        window = round(window_seconds * self.sampling_rate)
        if (most := max_window_samples(feature_extractor)) is not None and window > most:
            window = most
        self.preprocessor = Preprocessor(
            feature_extractor,
            window=window,
            hop=min(round(hop_seconds * self.sampling_rate), window),
            min_samples=min_input_samples(model.config, feature_extractor),
            silence_dbfs=silence_dbfs,
        )
        self.forward = BatchForward(
            model, device=device, precision=Precision(identity.precision), exact_padding=exact_padding
        )

    @property
    def model_id(self) -> str:
        return self.identity.id

    @property
    def revision(self) -> str:
        return self.identity.revision

    @property
    def precision(self) -> str:
        return self.identity.precision

    @property
    def window(self) -> int:
        return self.preprocessor.window

    @property
    def hop(self) -> int:
        return self.preprocessor.hop

    @classmethod
    def load(
        cls,
        model: str,
        *,
        device: str = "auto",
        precision: str = Precision.FP32.value,
        revision: str | None = None,
        batch_size: int = 8,
        window_seconds: float | None = None,
        hop_seconds: float | None = None,
        silence_dbfs: float = -50.0,
    ) -> AudioClassifier:
        torch_device = resolve_device(device)
        feature_extractor = AutoFeatureExtractor.from_pretrained(model, revision=revision)
        network = AutoModelForAudioClassification.from_pretrained(model, revision=revision)
        parameters = sum(p.numel() for p in network.parameters())
        chosen = choose_precision(Precision(precision), torch_device, parameters)
        network = apply_precision(network.eval(), chosen).to(torch_device)
        config = network.config
        window_s = window_seconds or getattr(config, "emoq_window_seconds", None) or DEFAULT_WINDOW_SECONDS
        hop_s = hop_seconds or getattr(config, "emoq_hop_seconds", None) or window_s
        return cls(
            network,
            feature_extractor,
            identify(model, getattr(config, "_commit_hash", None), chosen),
            device=torch_device,
            batch_size=batch_size,
            window_seconds=window_s,
            hop_seconds=hop_s,
            silence_dbfs=silence_dbfs,
            exact_padding=True,
            parameters=parameters,
        )

    @cached_property
    def full_window(self) -> Features:
        """The features of one full-length window (of silence: its cost is what matters)."""
        return self.preprocessor.features(np.zeros(self.window, dtype=np.float32))

    def warm_up(self) -> None:
        """Passes over a full window before the first job: they pay for what the first pass initialises,
        and on a CPU measure what a window costs, which sizes passes (and how many jobs a worker holds
        to fill them) from the first job on."""
        self.forward.calibrate(self.full_window)

    def windows_per_pass(self) -> int:
        """How many full windows one pass holds: at most the batch size, fewer on a CPU where a window
        takes a good part of a pass's time budget, or on a GPU where memory is short."""
        return self.forward.max_windows(self.full_window, self.batch_size)

    def batcher(self) -> Batcher:
        return Batcher(self.forward, batch_size=self.batch_size)

    def expected_windows(self, samples: int | None) -> int | None:
        return count_windows(samples, self.window, self.hop) if samples else None

    def windows(self, blocks: Iterable[np.ndarray]) -> Iterator[WindowFeatures]:
        """A recording's windows, conditioned as the checkpoint asks (times stay the recording's own)."""
        if self.conditioning is None:
            return self.preprocessor.windows(blocks)
        return conditioned_windows(blocks, self.conditioning, self.sampling_rate, self.preprocessor.windows)

    def summarise(self, stream: Stream) -> Classification:
        classification = summarise(
            self.labels, self.sampling_rate, stream.seen, stream.probabilities, temperature=self.temperature
        )
        return self.interpretation.apply(classification) if self.interpretation else classification

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
        batcher = self.batcher()
        stream = Stream(
            key=None,
            windows=self.windows(audio),
            expected_windows=self.expected_windows(expected_samples),
        )
        batcher.add(stream)
        while not batcher.step():
            if on_progress is not None and not on_progress(stream.progress):
                raise InferenceStopped
        if stream.error is not None:
            raise stream.error
        if on_progress is not None and not on_progress(1.0):
            raise InferenceStopped
        return self.summarise(stream)
