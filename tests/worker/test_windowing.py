import numpy as np
import pytest

from worker.windowing import Window, count_windows, level_dbfs, slide_windows, weighted_mean


def windows_of(n: int, window: int, hop: int, block: int | None = None) -> list[Window]:
    audio = np.arange(n, dtype=np.float32)
    blocks = [audio] if block is None else [audio[i : i + block] for i in range(0, n, block)]
    found = []
    for w, samples in slide_windows(blocks, window, hop):
        assert np.array_equal(samples, audio[w.start : w.end]), w
        found.append(w)
    return found


def test_a_clip_that_fits_is_one_window() -> None:
    assert windows_of(100, window=160, hop=80) == [Window(0, 100)]
    assert windows_of(160, window=160, hop=80) == [Window(0, 160)]


def test_windows_overlap_by_hop_and_the_tail_is_its_own_window() -> None:
    expected = [Window(0, 160), Window(100, 260), Window(200, 360), Window(300, 400)]

    assert windows_of(400, window=160, hop=100) == expected


def test_no_tail_window_when_the_last_full_window_reaches_the_end() -> None:
    assert windows_of(320, window=160, hop=160) == [Window(0, 160), Window(160, 320)]


@pytest.mark.parametrize("block", [1, 7, 99, 160, 1000])
@pytest.mark.parametrize(
    ("n", "window", "hop"), [(400, 160, 100), (1000, 160, 160), (999, 100, 30), (50, 160, 80)]
)
def test_blocks_of_any_size_give_the_same_windows_and_samples(
    n: int, window: int, hop: int, block: int
) -> None:
    whole = windows_of(n, window, hop)

    assert windows_of(n, window, hop, block=block) == whole
    assert count_windows(n, window, hop) == len(whole)
    covered = np.zeros(n, dtype=bool)
    for w in whole:
        covered[w.start : w.end] = True
    assert covered.all()


def test_memory_held_does_not_grow_with_the_recording() -> None:
    def endless(blocks: int) -> object:
        for _ in range(blocks):
            yield np.ones(1000, dtype=np.float32)

    held = [
        samples.base.nbytes if samples.base is not None else samples.nbytes
        for _, samples in slide_windows(endless(2000), 1600, 1000)
    ]

    assert max(held) < 20_000, "only a window and a block or so are kept"


def test_weighted_mean_weights_by_duration_and_sums_to_one() -> None:
    rows = np.array([[0.9, 0.1], [0.1, 0.9]])

    mean = weighted_mean(rows, np.array([3.0, 1.0]))

    assert mean == pytest.approx([0.7, 0.3])
    assert mean.sum() == pytest.approx(1.0)


def test_level_dbfs() -> None:
    assert level_dbfs(np.ones(100, dtype=np.float32)) == pytest.approx(0.0, abs=1e-6)
    assert level_dbfs(np.full(100, 0.01, dtype=np.float32)) == pytest.approx(-40.0, abs=1e-3)
    assert level_dbfs(np.zeros(100, dtype=np.float32)) < -150
