"""GPU placement and batch sizing, decided without a GPU: the arithmetic and the choices, not CUDA."""

from __future__ import annotations

import pytest

from shared.config import Settings
from worker import devices
from worker.forward import CPU_PASS_SECONDS, TimeBudget, fitting_windows


@pytest.mark.parametrize(("index", "expected"), [(0, "cuda:0"), (1, "cuda:1"), (2, "cuda:0"), (3, "cuda:1")])
def test_each_pool_process_takes_the_gpu_of_its_index(
    index: int, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devices, "gpu_count", lambda: 2)

    assert devices.process_device("auto", process_index=index) == expected
    assert devices.process_device("cpu", process_index=index) == "cpu"


def test_without_gpus_the_setting_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "gpu_count", lambda: 0)

    assert devices.process_device("auto", process_index=1) == "auto"
    assert devices.process_device("cuda", process_index=1) == "cuda"


def test_one_process_per_gpu_unless_the_concurrency_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "gpu_count", lambda: 4)
    monkeypatch.setattr(devices, "usable_cores", lambda: 16)

    assert devices.pool_size(Settings()) == 4
    assert devices.pool_size(Settings(worker_concurrency=2)) == 2
    assert devices.pool_size(Settings(device="cpu")) == 16


def test_on_cpu_one_single_threaded_process_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """Processes, not intra-op threads, share the cores out: torch threads wait for each other after
    every operator, which a small model and a busy machine make its whole cost."""
    import torch

    from worker import cores

    monkeypatch.setattr(devices, "gpu_count", lambda: 0)
    monkeypatch.setattr(devices, "usable_cores", lambda: 8)
    monkeypatch.setattr(cores, "usable_cores", lambda: 8)
    before = torch.get_num_threads()
    try:
        assert devices.pool_size(Settings()) == 8
        cores.share_cores(Settings())
        assert torch.get_num_threads() == 1
        cores.share_cores(Settings(worker_concurrency=2))
        assert torch.get_num_threads() == 4
        cores.share_cores(Settings(worker_concurrency=2, torch_threads=3))
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_counting_gpus_initialises_no_cuda() -> None:
    import torch

    devices.gpu_count()

    assert not torch.cuda.is_initialized()


@pytest.mark.parametrize(
    ("budget", "per_element", "elements", "cap", "expected"),
    [
        (8e9, 100.0, 128_000, 64, 64),  # plenty of memory: the cap decides
        (8e9, 100.0, 16_000_000, 64, 5),  # long windows: what fits
        (1e6, 100.0, 16_000_000, 64, 1),  # nothing fits: still one (out of memory then fails the job)
    ],
)
def test_a_pass_takes_as_many_windows_as_fit_the_memory_budget(
    budget: float, per_element: float, elements: int, cap: int, expected: int
) -> None:
    assert fitting_windows(budget, per_element, elements, cap) == expected


def test_on_a_cpu_a_pass_takes_as_many_windows_as_fit_its_time_budget() -> None:
    budget = TimeBudget()
    assert budget.max_windows(24_000, 8) == 8  # not measured yet: the cap

    budget.measure(CPU_PASS_SECONDS / 8.5, 24_000)  # a small model: 8.5 windows fill a pass
    assert budget.max_windows(24_000, 64) == 8
    assert budget.max_windows(24_000, 4) == 4
    assert budget.max_windows(12_000, 64) == 17  # half as long, twice as many

    budget.measure(CPU_PASS_SECONDS * 4, 128_000)  # a base-size model: a window outlasts a pass
    assert budget.max_windows(128_000, 8) == 1
    assert budget.max_windows(32_000, 8) == 1
    assert budget.max_windows(3_000, 8) == 8  # short windows still share a pass
