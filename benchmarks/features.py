"""What ``features=true`` costs a job: the worker's analysis of one recording with and without acoustic
features, and the two pitch estimators librosa offers, per audio second.

    .venv/bin/python benchmarks/features.py [--seconds 60] [--repeat 3] [--model models/emoq-emodb-small]

The recording is EmoDB clips end to end (``../shared/data/emodb``) or, without them, a synthetic voice
(a 150 Hz tone swelling four times a second). Both paths run in this process as the worker runs a job:
decoded 16 kHz blocks streamed into ``AudioClassifier`` (preprocess, forward, postprocess, reading),
with features tapping the same blocks and each segment then described. In the worker the features are
measured on the decoding thread while forward passes run, so this sequential figure is an upper bound.
Prints the median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from shared.config import Settings
from shared.results.interpretation import Interpretation
from worker.acoustics.summary import describe
from worker.acoustics.tracks import (
    FRAME_SECONDS,
    HOP_SECONDS,
    PITCH_CEILING_HZ,
    PITCH_FLOOR_HZ,
    TrackExtractor,
)
from worker.inference import AudioClassifier

RATE = 16000
BLOCK = 4096
EMODB = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "emodb"


def recording(seconds: float) -> tuple[np.ndarray, str]:
    clips = sorted(EMODB.glob("**/*.flac")) if EMODB.is_dir() else []
    if not clips:
        t = np.arange(round(seconds * RATE)) / RATE
        swell = 0.5 - 0.5 * np.cos(2 * np.pi * 4.0 * t)
        return (0.5 * swell * np.sin(2 * np.pi * 150.0 * t)).astype(np.float32), "synthetic voice"
    parts, total = [], 0
    for clip in clips:
        samples, rate = sf.read(clip, dtype="float32")
        part = librosa.resample(
            samples if samples.ndim == 1 else samples.mean(axis=1), orig_sr=rate, target_sr=RATE
        )
        parts.append(part)
        total += len(part)
        if total >= seconds * RATE:
            break
    return np.concatenate(parts)[: round(seconds * RATE)], f"{len(parts)} EmoDB clips"


def blocks(audio: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(audio), BLOCK):
        yield audio[start : start + BLOCK]


def median_seconds(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float]]:
    """Each run's median wall and CPU time; the runs take turns, so a machine busy for a while slows
    them alike. CPU time counts every thread of this process, and is the steadier on a busy machine."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm: librosa's lazy imports and numba kernels load once per process
    for _ in range(repeat):
        for name, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="models/emoq-emodb-small")
    args = parser.parse_args()
    settings = Settings()
    classifier = AudioClassifier.load(args.model, device="cpu", silence_dbfs=settings.silence_dbfs)
    classifier.interpretation = Interpretation.from_settings(
        classifier.labels, classifier.model_config, settings
    )
    audio, source = recording(args.seconds)
    seconds = len(audio) / RATE

    def plain() -> object:
        return classifier.classify(blocks(audio))

    def with_features() -> object:
        extractor = TrackExtractor(RATE, silence_dbfs=settings.silence_dbfs)
        classification = classifier.classify(extractor.tap(blocks(audio)))
        return describe(classification, extractor.finish())

    timeline = plain()

    def features_alone() -> object:
        extractor = TrackExtractor(RATE, silence_dbfs=settings.silence_dbfs)
        for _ in extractor.tap(blocks(audio)):
            pass
        return describe(timeline, extractor.finish())

    frame, hop = round(FRAME_SECONDS * RATE), round(HOP_SECONDS * RATE)
    pitch = {"fmin": PITCH_FLOOR_HZ, "fmax": PITCH_CEILING_HZ, "sr": RATE, "frame_length": frame}
    pitch |= {"hop_length": hop, "center": False}
    per_second = median_seconds(
        {
            "job, no features": plain,
            "job, features=true": with_features,
            "features alone": features_alone,
            "their YIN alone": lambda: librosa.yin(audio, **pitch),
        },
        args.repeat,
    ) | median_seconds({"pYIN instead": lambda: librosa.pyin(audio, **pitch)}, 1)
    print(f"{seconds:g} s of audio ({source}), model {classifier.model_id}, median of {args.repeat}")
    print(f"{'ms per audio second':<20} {'wall':>7} {'CPU':>7}")
    for name, (wall, cpu) in per_second.items():
        print(f"{name:<20} {1000 * wall / seconds:7.2f} {1000 * cpu / seconds:7.2f}")
    for kind, index in (("wall", 0), ("CPU", 1)):
        plain, asked = per_second["job, no features"][index], per_second["job, features=true"][index]
        alone = per_second["features alone"][index]
        print(
            f"{kind}: features add {asked / plain - 1:+.0%} to the job (measured alone: {alone / plain:.0%} of it)"
        )


if __name__ == "__main__":
    main()
