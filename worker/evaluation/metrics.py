"""Classification metrics from label indices. Numpy only, so training and evaluation share one definition.

Unweighted average recall (UAR, the mean of per-class recalls) is the headline figure for emotion corpora:
their classes are unbalanced, and accuracy rewards a model that favours the common ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Metrics:
    accuracy: float
    uar: float
    macro_f1: float
    per_class: list[ClassScores]
    confusion: np.ndarray  # rows: true label, columns: predicted label
    n: int


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_labels: int) -> np.ndarray:
    matrix = np.zeros((n_labels, n_labels), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    # 0/0 is scored 0, as scikit-learn does with zero_division=0.
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


def metrics_from_confusion(matrix: np.ndarray) -> Metrics:
    """Averages follow scikit-learn's conventions so the figures compare with published ones.

    UAR averages recall over the classes present in the data (support > 0): a class the data lacks has no
    recall to average. Macro-F1 averages over the classes present in the data or the predictions, so
    predicting a class the data lacks still costs.
    """
    matrix = np.asarray(matrix, dtype=np.int64)
    correct = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = _ratio(correct, predicted.astype(np.float64))
    recall = _ratio(correct, support.astype(np.float64))
    f1 = _ratio(2 * precision * recall, precision + recall)
    present = support > 0
    seen = present | (predicted > 0)
    n = int(matrix.sum())
    return Metrics(
        accuracy=float(correct.sum() / n) if n else 0.0,
        uar=float(recall[present].mean()) if present.any() else 0.0,
        macro_f1=float(f1[seen].mean()) if seen.any() else 0.0,
        per_class=[
            ClassScores(float(p), float(r), float(f), int(s))
            for p, r, f, s in zip(precision, recall, f1, support, strict=True)
        ],
        confusion=matrix,
        n=n,
    )


def compute_metrics(true: np.ndarray, predicted: np.ndarray, n_labels: int) -> Metrics:
    return metrics_from_confusion(confusion_matrix(true, predicted, n_labels))
