import numpy as np
import pytest

from worker.evaluation.metrics import compute_metrics, confusion_matrix, metrics_from_confusion


def test_known_confusion_gives_known_figures() -> None:
    # rows true, columns predicted: class 0 recall 3/4, class 1 recall 4/6; precision 3/5 and 4/5.
    metrics = metrics_from_confusion(np.array([[3, 1], [2, 4]]))

    assert metrics.n == 10
    assert metrics.accuracy == pytest.approx(0.7)
    assert metrics.uar == pytest.approx((3 / 4 + 4 / 6) / 2)
    f1 = [2 * 0.6 * 0.75 / (0.6 + 0.75), 2 * 0.8 * (4 / 6) / (0.8 + 4 / 6)]
    assert metrics.macro_f1 == pytest.approx(sum(f1) / 2)
    assert [c.precision for c in metrics.per_class] == pytest.approx([0.6, 0.8])
    assert [c.recall for c in metrics.per_class] == pytest.approx([0.75, 4 / 6])
    assert [c.support for c in metrics.per_class] == [4, 6]


def test_uar_differs_from_accuracy_on_unbalanced_classes() -> None:
    # Always answering the majority class: accuracy 0.9, but UAR is chance for two classes.
    metrics = compute_metrics(np.array([0] * 9 + [1]), np.zeros(10, dtype=int), 2)

    assert metrics.accuracy == pytest.approx(0.9)
    assert metrics.uar == pytest.approx(0.5)


def test_confusion_matrix_counts_pairs() -> None:
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)

    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_class_absent_from_data_is_left_out_of_uar_but_costs_f1_when_predicted() -> None:
    # Class 2 never occurs; one clip of class 1 is predicted as class 2.
    metrics = compute_metrics(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 2]), 3)

    assert metrics.uar == pytest.approx((1.0 + 0.5) / 2)
    f1_class_1 = 2 * 1.0 * 0.5 / 1.5
    assert metrics.macro_f1 == pytest.approx((1.0 + f1_class_1 + 0.0) / 3)


def test_class_neither_present_nor_predicted_is_ignored() -> None:
    metrics = compute_metrics(np.array([0, 1]), np.array([0, 1]), 4)

    assert metrics.uar == 1.0
    assert metrics.macro_f1 == 1.0
    assert metrics.per_class[3].support == 0


def test_empty_input_scores_zero_without_dividing_by_zero() -> None:
    metrics = compute_metrics(np.array([], dtype=int), np.array([], dtype=int), 3)

    assert (metrics.n, metrics.accuracy, metrics.uar, metrics.macro_f1) == (0, 0.0, 0.0, 0.0)
