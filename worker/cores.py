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

The marks live in an array the worker's main process makes when it imports this module, before it
forks the pool, so every pool process sees the same memory. Each process writes only its own slot (its
pool index), so no lock is needed; a process that dies busy counts as busy (so the others borrow less,
never more) until its replacement, in the same slot, ends its first analysis. Reading the others'
slots while they change only makes one pass's thread count a moment stale.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from billiard.process import current_process

from shared.config import Settings
from worker.devices import pool_size, usable_cores

# Slots beyond the pool's size stay 0; a pool larger than this shares slots, which only makes the
# count of busy processes an underestimate for some passes.
_SLOTS = 1024
_busy = multiprocessing.RawArray("b", _SLOTS)


def base_threads(settings: Settings) -> int:
    """EMOQ_TORCH_THREADS, or this process's even share of the cores."""
    return settings.torch_threads or max(1, usable_cores() // pool_size(settings))


def share_cores(settings: Settings) -> None:
    """Give this worker process its share of the cores (one thread each by default): oversubscribed
    torch threads crawl."""
    torch.set_num_threads(base_threads(settings))


def _slot() -> int:
    return (getattr(current_process(), "index", None) or 0) % _SLOTS


@contextmanager
def analysing() -> Iterator[None]:
    """Mark this process busy while the block runs."""
    slot = _slot()
    _busy[slot] = 1
    try:
        yield
    finally:
        _busy[slot] = 0


def busy_processes() -> int:
    """How many of the pool's processes are analysing now (at least this one)."""
    return max(1, bytes(_busy).count(1))


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
