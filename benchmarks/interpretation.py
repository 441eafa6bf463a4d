"""What reading a result costs the worker: confidence, episodes and arousal/valence for a long recording.

    .venv/bin/python benchmarks/interpretation.py --minutes 60 [--labels 7] [--repeat 5]

Builds the timeline a worker would hold for a recording of that length, one window per second (the
shipped model's hop), from random scores that change emotion every few seconds, then times, side by
side in one run, ``summarise`` alone (what the worker did before) and ``summarise`` followed by
``Interpretation.apply``. Prints the median of each and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from shared.config import Settings
from shared.results.interpretation import Interpretation
from worker.postprocess import summarise
from worker.windowing import Window

RATE = 16000
LABELS = ["angry", "bored", "disgust", "fear", "happy", "neutral", "sad"]


def timeline(minutes: float, labels: int, seed: int = 0) -> tuple[list[Window], dict[Window, np.ndarray]]:
    rng = np.random.default_rng(seed)
    windows = [Window(start=i * RATE, end=(i + 1) * RATE) for i in range(round(minutes * 60))]
    probabilities = {}
    leading = 0
    for window in windows:
        if rng.random() < 0.2:
            leading = int(rng.integers(labels))
        row = rng.dirichlet(np.ones(labels))
        row[leading] += 1.0
        probabilities[window] = row / row.sum()
    return windows, probabilities


def median_seconds(run: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--labels", type=int, default=len(LABELS))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    labels = LABELS[: args.labels]
    windows, probabilities = timeline(args.minutes, len(labels))
    interpretation = Interpretation.from_settings(labels, {}, Settings())

    plain = median_seconds(lambda: summarise(labels, RATE, windows, probabilities), args.repeat)
    read = median_seconds(
        lambda: interpretation.apply(summarise(labels, RATE, windows, probabilities)), args.repeat
    )
    episodes = interpretation.apply(summarise(labels, RATE, windows, probabilities)).episodes or []
    print(f"{len(windows)} windows ({args.minutes:g} min), {len(labels)} labels, median of {args.repeat}")
    print(f"summarise:              {plain * 1000:8.1f} ms")
    print(f"summarise + interpret:  {read * 1000:8.1f} ms  ({read / plain:.2f}x; {len(episodes)} episodes)")


if __name__ == "__main__":
    main()
