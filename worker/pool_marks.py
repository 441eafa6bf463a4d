"""What each inference process of a worker is doing, in memory the worker's processes share: idle,
analysing, or analysing with more windows in hand than its next passes take (saturated).

The others read the marks to decide what to take: idle processes' cores are lent (``worker/cores.py``),
and a saturated process's even share of the queued jobs goes to the processes that can start on them
(``worker/batching.py``).

The marks live in an array the worker's main process makes when it imports this module, before it
forks the pool, so every pool process sees the same memory. Each process writes only its own slot (its
pool index), so no lock is needed; a process that dies marked keeps its mark (so the others borrow
less, never more) until its replacement, in the same slot, ends its first analysis. Reading the others'
slots while they change only makes one decision a moment stale.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager

from billiard.process import current_process

IDLE, ANALYSING, SATURATED = 0, 1, 2
# Slots beyond the pool's size stay idle; a pool larger than this shares slots, which only makes the
# counts below underestimates for some decisions.
_SLOTS = 1024
_marks = multiprocessing.RawArray("b", _SLOTS)


def _slot() -> int:
    return (getattr(current_process(), "index", None) or 0) % _SLOTS


@contextmanager
def analysing() -> Iterator[None]:
    """Mark this process analysing while the block runs."""
    slot = _slot()
    _marks[slot] = ANALYSING
    try:
        yield
    finally:
        _marks[slot] = IDLE


def mark_saturated(saturated: bool) -> None:
    """Within ``analysing()``: whether this process holds more windows than its next passes take."""
    _marks[_slot()] = SATURATED if saturated else ANALYSING


def busy_processes() -> int:
    """How many of the pool's processes are analysing now (at least this one)."""
    return max(1, _SLOTS - bytes(_marks).count(IDLE))


def saturated_others() -> int:
    """How many of the pool's other processes are saturated."""
    marks = bytes(_marks)
    return marks.count(SATURATED) - (marks[_slot()] == SATURATED)
