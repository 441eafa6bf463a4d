"""Capacity of inference workers: CPU cost per audio second of a model, and throughput as workers are added.

    nice -n 10 .venv/bin/python benchmarks/worker_scaling.py [--clip-seconds 20] [--workers 1,2,4] [--base]

Runs the worker's own path (`stream_mono` into `AudioClassifier.classify`, one torch thread per process,
as `EMOQ_TORCH_THREADS=1`) on a synthetic speech-like clip.

1. Cost: CPU seconds per audio second for the shipped model and, with ``--base``, a base-size
   Wav2Vec2 (95 M parameters, random weights built from a config: the speed of a base model, not its
   scores). CPU time does not depend on what else the machine runs, so it converts to capacity:
   audio hours per day per core = 24 / (CPU s per audio s).
2. Scaling: N worker processes at once, each scoring the same clips; audio seconds scored per wall
   second, side by side for each N in one run. It grows with N until the cores (or the share of them
   this machine leaves free) run out.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000
SHIPPED = Path(__file__).resolve().parents[1] / "models" / "emoq-emodb-small"


def write_clip(path: Path, seconds: float) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = 120 + 60 * np.sin(2 * np.pi * 0.2 * t)
    voiced = 0.3 * np.sin(2 * np.pi * np.cumsum(pitch) / RATE) * (np.sin(2 * np.pi * 0.7 * t) > -0.3)
    sf.write(path, (voiced + 0.01 * rng.standard_normal(len(t))).astype(np.float32), RATE, subtype="PCM_16")
    return path


def save_base_model(folder: Path) -> Path:
    """A Wav2Vec2-base-sized classifier (the shipped model's feature extractor), saved like a checkpoint."""
    from transformers import AutoFeatureExtractor, Wav2Vec2Config, Wav2Vec2ForSequenceClassification

    config = Wav2Vec2Config(num_labels=7)  # the defaults are wav2vec2-base: 12 layers of 768
    Wav2Vec2ForSequenceClassification(config).save_pretrained(folder)
    AutoFeatureExtractor.from_pretrained(SHIPPED).save_pretrained(folder)
    return folder


def score(model: str, clip: Path, repeats: int) -> tuple[float, float]:
    """CPU seconds and wall seconds to score ``clip`` ``repeats`` times, model loading excluded."""
    import torch

    from shared.audio import stream_mono
    from worker.inference import AudioClassifier

    torch.set_num_threads(1)
    classifier = AudioClassifier.load(model, device="cpu")
    with closing(stream_mono(clip, target_rate=classifier.sampling_rate, max_seconds=7200)) as blocks:
        classifier.classify(blocks)  # warm-up: first calls allocate
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(repeats):
        with closing(stream_mono(clip, target_rate=classifier.sampling_rate, max_seconds=7200)) as blocks:
            classifier.classify(blocks)
    return time.process_time() - cpu, time.perf_counter() - wall


def _worker(model: str, clip: str, repeats: int, start: multiprocessing.synchronize.Barrier) -> None:
    import torch

    from shared.audio import stream_mono
    from worker.inference import AudioClassifier

    torch.set_num_threads(1)
    classifier = AudioClassifier.load(model, device="cpu")
    start.wait()  # every process loaded: only scoring is timed
    for _ in range(repeats):
        with closing(stream_mono(Path(clip), target_rate=classifier.sampling_rate, max_seconds=7200)) as b:
            classifier.classify(b)
    start.wait()


def scaling(model: str, clip: Path, workers: int, repeats: int) -> float:
    """Wall seconds for ``workers`` processes to each score the clip ``repeats`` times."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers + 1)
    processes = [
        context.Process(target=_worker, args=(model, str(clip), repeats, barrier)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    barrier.wait()
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip-seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3, help="clips each process scores")
    parser.add_argument("--workers", default="1,2,4", help="process counts for the scaling run")
    parser.add_argument("--base", action="store_true", help="also time a base-size Wav2Vec2")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    with tempfile.TemporaryDirectory() as folder:
        clip = write_clip(Path(folder) / "clip.wav", args.clip_seconds)
        models = {"shipped (emoq-emodb-small)": str(SHIPPED)}
        if args.base:
            models["base-size Wav2Vec2 (95 M)"] = str(save_base_model(Path(folder) / "base"))
        print(
            f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, clip: {args.clip_seconds:g} s"
        )
        print("\nmodel | CPU s per audio s | wall s per audio s | audio h/day per core (CPU time)")
        for name, model in models.items():
            repeats = args.repeats if "shipped" in name else 1
            cpu, wall = score(model, clip, repeats)
            audio = args.clip_seconds * repeats
            print(f"{name} | {cpu / audio:.4f} | {wall / audio:.4f} | {24 * audio / cpu:,.0f}")

        print("\nworkers | wall s | audio s scored per wall s | vs 1 worker")
        baseline = None
        for workers in (int(n) for n in args.workers.split(",")):
            elapsed = scaling(str(SHIPPED), clip, workers, args.repeats)
            rate = workers * args.repeats * args.clip_seconds / elapsed
            baseline = baseline or rate
            print(f"{workers} | {elapsed:.1f} | {rate:.1f} | {rate / baseline:.2f}x")


if __name__ == "__main__":
    main()
