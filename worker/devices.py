"""Which device each inference process uses: one process per GPU, each on the GPU of its pool index.

CUDA cannot be used in a process forked from one that initialised it, and Celery's pool forks its
children from the main process. So the main process only counts GPUs through NVML (which initialises no
CUDA context); each child picks its GPU and loads its model after the fork.
"""

from __future__ import annotations

import torch
from billiard.process import current_process

from shared.config import Settings


def gpu_count() -> int:
    """GPUs visible to this process, without initialising CUDA (0 where NVML cannot tell)."""
    if not torch.cuda._is_compiled():
        return 0
    return max(torch.cuda._device_count_nvml(), 0)


def pool_size(settings: Settings) -> int:
    """Inference processes for one `emoq worker`: EMOQ_WORKER_CONCURRENCY if set, else one per GPU
    when serving on GPUs, else its default."""
    if "worker_concurrency" in settings.model_fields_set or settings.device == "cpu":
        return settings.worker_concurrency
    return gpu_count() or settings.worker_concurrency


def process_device(setting: str, *, process_index: int | None = None) -> str:
    """The device for this pool process: ``cuda:<index modulo the GPUs>`` when serving on GPUs."""
    if setting == "cpu":
        return "cpu"
    count = gpu_count()
    if count == 0:
        return setting  # "cuda" without a GPU fails at load and says why; "auto" means the CPU
    index = getattr(current_process(), "index", 0) if process_index is None else process_index
    return f"cuda:{(index or 0) % count}"
