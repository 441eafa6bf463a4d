"""Which device each inference process uses: one process per GPU, each on the GPU of its pool index.

CUDA cannot be used in a process forked from one that initialised it, and Celery's pool forks its
children from the main process. So the main process only counts GPUs through NVML (which initialises no
CUDA context); each child picks its GPU and loads its model after the fork.
"""

from __future__ import annotations

import os

import torch
from billiard.process import current_process

from shared.config import Settings


def gpu_count() -> int:
    """GPUs visible to this process, without initialising CUDA (0 where NVML cannot tell)."""
    if not torch.cuda._is_compiled():
        return 0
    return max(torch.cuda._device_count_nvml(), 0)


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def pool_size(settings: Settings) -> int:
    """Inference processes for one `emoq worker`: EMOQ_WORKER_CONCURRENCY if set, else one per GPU
    when serving on GPUs, else one per core.

    On CPU, processes of one torch thread each beat one process of many threads (as TorchServe's
    default of one worker per core): intra-op threads meet at a barrier after every operator, so a
    small model's many small operators spend their time waiting there, and on a machine where anything
    else runs (the API, decoding, other services) one descheduled thread stalls all the others
    (figures in docs/engine.md). Each process holds its own copy of the model: lower this where memory
    is short, and raise EMOQ_TORCH_THREADS to keep the cores busy."""
    if settings.worker_concurrency is not None:
        return settings.worker_concurrency
    if settings.device != "cpu" and (gpus := gpu_count()):
        return gpus
    return usable_cores()


def process_device(setting: str, *, process_index: int | None = None) -> str:
    """The device for this pool process: ``cuda:<index modulo the GPUs>`` when serving on GPUs."""
    if setting == "cpu":
        return "cpu"
    count = gpu_count()
    if count == 0:
        return setting  # "cuda" without a GPU fails at load and says why; "auto" means the CPU
    index = getattr(current_process(), "index", 0) if process_index is None else process_index
    return f"cuda:{(index or 0) % count}"
