"""A lone busy inference process borrows the idle processes' cores, and gives them back when another
process starts work: the marks are shared by processes forked after the module is imported, as
Celery's pool is."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from shared.config import Settings
from worker import cores, pool_marks


@pytest.fixture(autouse=True)
def four_cores(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(cores, "usable_cores", lambda: 4)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _busy_in_slot(
    slot: int, started: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event
) -> None:
    pool_marks._slot = lambda: slot  # type: ignore[method-assign]  # a pool process's index, in a plain fork
    with pool_marks.analysing():
        started.set()
        release.wait(timeout=30)


def test_a_lone_process_borrows_the_idle_cores_and_gives_them_back() -> None:
    settings = Settings(worker_concurrency=4)
    context = multiprocessing.get_context("fork")
    started, release = context.Event(), context.Event()

    with pool_marks.analysing():
        cores.IdleCores(settings).borrow()
        assert torch.get_num_threads() == 4

        other = context.Process(target=_busy_in_slot, args=(1, started, release))
        other.start()
        try:
            assert started.wait(timeout=30)
            assert pool_marks.busy_processes() == 2
            cores.IdleCores(settings).borrow()
            assert torch.get_num_threads() == 2
        finally:
            release.set()
            other.join(timeout=30)

        assert pool_marks.busy_processes() == 1
        cores.IdleCores(settings).borrow()
        assert torch.get_num_threads() == 4
    assert pool_marks.busy_processes() == 1  # counts the caller: it is about to run a pass


def test_never_below_the_processes_share_and_a_set_thread_count_is_kept() -> None:
    with pool_marks.analysing():
        cores.IdleCores(Settings(worker_concurrency=1)).borrow()
        assert torch.get_num_threads() == 4

        torch.set_num_threads(3)
        cores.IdleCores(Settings(worker_concurrency=4, torch_threads=3)).borrow()
        assert torch.get_num_threads() == 3


def test_only_models_whose_passes_are_arithmetic_borrow(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tiny model's second thread waits at barriers (measured no faster); a large one's computes."""
    from worker import inference

    assert not inference.AudioClassifier.load(str(tiny_model), device="cpu").borrows_idle_cores

    monkeypatch.setattr(inference, "TINY_MODEL_PARAMETERS", 1_000)
    assert inference.AudioClassifier.load(str(tiny_model), device="cpu").borrows_idle_cores
