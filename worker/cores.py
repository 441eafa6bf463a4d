"""How many torch threads an inference process runs: its share of the cores, plus the shares of the
worker's processes that have nothing to do.

One single-threaded process per core is the right layout while every process has work (see
``pool_size``), but a lone long recording, or the last of a batch, then runs on one core while the
others idle. So each process marks in memory shared by the pool whether it is analysing, and before
each forward pass takes ``cores // busy processes`` threads: a lone process borrows the idle cores and
gives them back at its next pass once another process starts work. A pass is short (a tenth of a
second on a CPU, ``worker/forward.py``), so a core is never lent for long after its process wants it.
Only models large enough that arithmetic dominates a pass borrow (``AudioClassifier.borrows_idle_cores``):
a tiny model's second thread mostly waits at the barrier after each operator, and measured no faster.

The marks are ``worker/pool_marks.py``'s.
"""

from __future__ import annotations

import torch

from shared.config import Settings
from worker.devices import pool_size, usable_cores
from worker.pool_marks import busy_processes


def base_threads(settings: Settings) -> int:
    """EMOQ_TORCH_THREADS, or this process's even share of the cores."""
    return settings.torch_threads or max(1, usable_cores() // pool_size(settings))


def share_cores(settings: Settings) -> None:
    """Give this worker process its share of the cores (one thread each by default): oversubscribed
    torch threads crawl."""
    torch.set_num_threads(base_threads(settings))


class IdleCores:
    """What a process may borrow before each forward pass on a CPU: its share of the cores plus the idle
    processes'. The core count is read once (it asks for the affinity and the cgroup quota), not per pass.

    Only when the threads are the default share: a set EMOQ_TORCH_THREADS is kept as set.
    """

    def __init__(self, settings: Settings) -> None:
        self.pinned = bool(settings.torch_threads)
        self.own = base_threads(settings)
        self.cores = usable_cores()

    def borrow(self) -> None:
        if self.pinned:
            return
        threads = max(self.own, self.cores // busy_processes())
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
