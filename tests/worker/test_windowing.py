import numpy as np
import pytest

from worker.windowing import Window, level_dbfs, plan_windows, weighted_mean


def test_a_clip_that_fits_is_one_window() -> None:
    assert plan_windows(100, window=160, hop=80) == [Window(0, 100)]
    assert plan_windows(160, window=160, hop=80) == [Window(0, 160)]


def test_windows_overlap_by_hop_and_the_tail_is_its_own_window() -> None:
    windows = plan_windows(400, window=160, hop=100)

    assert windows == [Window(0, 160), Window(100, 260), Window(200, 360), Window(300, 400)]
    covered = np.zeros(400, dtype=bool)
    for w in windows:
        covered[w.start : w.end] = True
    assert covered.all()


def test_no_tail_window_when_the_last_full_window_reaches_the_end() -> None:
    assert plan_windows(320, window=160, hop=160) == [Window(0, 160), Window(160, 320)]


def test_weighted_mean_weights_by_duration_and_sums_to_one() -> None:
    rows = np.array([[0.9, 0.1], [0.1, 0.9]])

    mean = weighted_mean(rows, np.array([3.0, 1.0]))

    assert mean == pytest.approx([0.7, 0.3])
    assert mean.sum() == pytest.approx(1.0)


def test_level_dbfs() -> None:
    assert level_dbfs(np.ones(100, dtype=np.float32)) == pytest.approx(0.0, abs=1e-6)
    assert level_dbfs(np.full(100, 0.01, dtype=np.float32)) == pytest.approx(-40.0, abs=1e-3)
    assert level_dbfs(np.zeros(100, dtype=np.float32)) < -150
