"""The marks a worker's inference processes share: each sees which others are analysing and which hold
more than their next passes take, through memory made before the fork, as Celery's pool is made."""

from __future__ import annotations

import multiprocessing

from worker import pool_marks


def _saturated_in_slot(
    slot: int, started: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event
) -> None:
    pool_marks._slot = lambda: slot  # type: ignore[method-assign]  # a pool process's index, in a plain fork
    with pool_marks.analysing():
        pool_marks.mark_saturated(True)
        started.set()
        release.wait(timeout=30)


def test_a_saturated_process_counts_as_busy_and_as_saturated_for_the_others_only() -> None:
    context = multiprocessing.get_context("fork")
    started, release = context.Event(), context.Event()
    other = context.Process(target=_saturated_in_slot, args=(1, started, release))
    other.start()
    try:
        assert started.wait(timeout=30)
        with pool_marks.analysing():
            assert (pool_marks.busy_processes(), pool_marks.saturated_others()) == (2, 1)
            pool_marks.mark_saturated(True)
            assert pool_marks.saturated_others() == 1  # not itself
            pool_marks.mark_saturated(False)
            assert pool_marks.busy_processes() == 2
    finally:
        release.set()
        other.join(timeout=30)

    assert (pool_marks.busy_processes(), pool_marks.saturated_others()) == (1, 0)
