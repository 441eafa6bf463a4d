"""The confusion matrix as a PNG: row-normalised colours, raw counts written in each cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def save_confusion_png(confusion: np.ndarray, labels: list[str], path: Path, *, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only: never reach for a display
    import matplotlib.pyplot as plt

    counts = np.asarray(confusion)
    totals = counts.sum(axis=1, keepdims=True)
    # Colour by recall so a rare class reads as clearly as a common one.
    rates = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    size = 1.0 + 0.75 * len(labels)
    figure, axes = plt.subplots(figsize=(size + 1.5, size))
    image = axes.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the true class")
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for row in range(len(labels)):
        for column in range(len(labels)):
            axes.text(
                column,
                row,
                str(int(counts[row, column])),
                ha="center",
                va="center",
                color="white" if rates[row, column] > 0.5 else "black",
            )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
