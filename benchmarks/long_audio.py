"""Speed and memory of the worker's path on one long recording: decode -> windows -> model -> timeline.

    .venv/bin/python benchmarks/long_audio.py --minutes 60 [--model PATH_OR_ID] [--device cpu]

Writes a synthetic speech-like FLAC of the given length, then runs it exactly as a worker does
(`stream_mono` into `AudioClassifier.classify`) and prints wall time, real-time factor and the peak
resident memory before and after, so the growth attributable to the recording is visible.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import soundfile as sf

from shared.audio import stream_mono
from shared.config import get_settings
from worker.inference import AudioClassifier

RATE = 16000


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_speechlike(path: Path, seconds: int) -> None:
    """Voiced bursts with pauses, written a minute at a time so the generator itself stays small."""
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", samplerate=RATE, channels=1, format="FLAC") as out:
        for minute in range(0, seconds, 60):
            n = min(60, seconds - minute) * RATE
            t = np.arange(n) / RATE
            pitch = 120 + 60 * np.sin(2 * np.pi * 0.2 * t)
            voiced = np.sin(2 * np.pi * np.cumsum(pitch) / RATE) * (np.sin(2 * np.pi * 0.25 * t) > -0.3)
            out.write((0.3 * voiced + 0.01 * rng.standard_normal(n)).astype(np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--model", default=get_settings().model)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=get_settings().inference_batch_size)
    args = parser.parse_args()

    seconds = int(args.minutes * 60)
    classifier = AudioClassifier.load(args.model, device=args.device, batch_size=args.batch_size)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long.flac"
        write_speechlike(path, seconds)
        before = peak_rss_mib()
        started = time.perf_counter()
        with closing(
            stream_mono(path, target_rate=classifier.sampling_rate, max_seconds=seconds + 1)
        ) as blocks:
            result = classifier.classify(blocks, expected_samples=seconds * classifier.sampling_rate)
        elapsed = time.perf_counter() - started
    whole_waveform_mib = seconds * classifier.sampling_rate * 4 / 2**20
    print(f"model            {classifier.model_id} ({classifier.revision}) on {classifier.device}")
    print(
        f"audio            {seconds / 60:.1f} min, {len(result.segments)} windows "
        f"({classifier.window / classifier.sampling_rate:g} s, hop {classifier.hop / classifier.sampling_rate:g} s)"
    )
    print(f"wall time        {elapsed:.1f} s  ({seconds / elapsed:.0f}x real time)")
    print(
        f"peak RSS         {before:.0f} MiB before, {peak_rss_mib():.0f} MiB after "
        f"(+{peak_rss_mib() - before:.0f} MiB; the whole waveform alone would be {whole_waveform_mib:.0f} MiB)"
    )
    print(
        f"dominant         {result.dominant.label} {result.dominant.score:.3f}; "
        f"{sum(s.silent for s in result.segments)} silent windows"
    )


if __name__ == "__main__":
    main()
