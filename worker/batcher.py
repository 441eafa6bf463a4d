"""Filling forward passes with windows from several recordings at once.

Each recording is a stream of windows, read lazily (an hour of audio never sits in memory whole). The
batcher pulls windows from every open stream in turn, so short recordings finish while a long one is
still running, groups them by what may share a pass (``BatchForward.group_key``), and runs the fullest
group. A recording's result depends only on its own windows, whatever it shared a pass with.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Hashable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from worker.forward import BatchForward
from worker.preprocess import WindowFeatures
from worker.windowing import Window

T = TypeVar("T")
# Windows read ahead of the pass being filled, per pass: enough to find full groups, few enough to hold.
LOOKAHEAD_PASSES = 2


@dataclass
class Stream:
    """One recording's windows, and what has come of them so far."""

    key: Hashable
    windows: Iterator[WindowFeatures]
    expected_windows: int | None = None
    seen: list[Window] = field(default_factory=list)
    probabilities: dict[Window, np.ndarray] = field(default_factory=dict)
    pending: int = 0
    exhausted: bool = False
    error: Exception | None = None

    @property
    def progress(self) -> float:
        """The share of windows read and, unless silent, scored."""
        if not self.expected_windows:
            return 0.0
        return min((len(self.seen) - self.pending) / self.expected_windows, 1.0)

    @property
    def unscored(self) -> int:
        """Windows expected and not yet read and scored (0 when the recording's length is unknown)."""
        if not self.expected_windows:
            return 0
        return max(self.expected_windows - (len(self.seen) - self.pending), 0)

    @property
    def done(self) -> bool:
        return self.error is not None or (self.exhausted and self.pending == 0)


@dataclass
class _Pending:
    stream: Stream
    item: WindowFeatures
    order: int  # when it was read: the oldest waiting window always rides the next pass


class Batcher:
    def __init__(self, forward: BatchForward, *, batch_size: int) -> None:
        self.forward = forward
        self.batch_size = batch_size
        self.streams: dict[Hashable, Stream] = {}
        self._groups: dict[Hashable, list[_Pending]] = {}
        self._turn = 0
        self._read = itertools.count()

    def add(self, stream: Stream) -> None:
        self.streams[stream.key] = stream

    def drop(self, key: Hashable) -> Stream | None:
        """Forget a stream (cancelled, or its lease lost) and any of its windows waiting for a pass."""
        stream = self.streams.pop(key, None)
        if stream is not None:
            self._discard_pending(stream)
        return stream

    def _discard_pending(self, stream: Stream) -> None:
        for group in self._groups.values():
            group[:] = [p for p in group if p.stream is not stream]
        stream.pending = 0

    def step(self) -> list[Stream]:
        """Run one forward pass (if any window is waiting) and return the streams that ended: all
        windows scored, or failed while reading (``error`` set). Ended streams are no longer held."""
        self._fill()
        waiting = [group for group in self._groups.values() if group]
        if waiting:
            self._run(min(waiting, key=lambda group: min(p.order for p in group)))
        ended = [s for s in self.streams.values() if s.done]
        for stream in ended:
            self.drop(stream.key)
        return ended

    def _fill(self) -> None:
        wanted = self.batch_size * LOOKAHEAD_PASSES
        open_streams = [s for s in self.streams.values() if not s.exhausted and s.error is None]
        while open_streams and sum(map(len, self._groups.values())) < wanted:
            self._turn = (self._turn + 1) % len(open_streams)
            stream = open_streams[self._turn]
            if not self._pull(stream):
                open_streams.remove(stream)

    def _pull(self, stream: Stream) -> bool:
        try:
            item = next(stream.windows)
        except StopIteration:
            stream.exhausted = True
            return False
        except Exception as exc:  # a decode error ends this recording, not the others
            stream.error = exc
            self._discard_pending(stream)
            return False
        stream.seen.append(item.window)
        if item.features is not None:
            stream.pending += 1
            pending = _Pending(stream, item, next(self._read))
            self._groups.setdefault(self.forward.group_key(item.features), []).append(pending)
        return True

    def _run(self, group: list[_Pending]) -> None:
        """One pass over the group's oldest window and the windows closest to it in length: padding
        (where allowed) wastes little, and no window waits behind an endless supply of others (short
        tails of short clips behind a long recording's full windows)."""
        group.sort(key=lambda p: p.item.window.length)
        limit = self.forward.max_windows(group[-1].item.features, self.batch_size)
        oldest = min(range(len(group)), key=lambda i: group[i].order)
        starts = range(max(0, oldest - limit + 1), min(oldest, len(group) - limit) + 1) or [0]
        start = min(
            starts,
            key=lambda i: (
                group[min(i + limit, len(group)) - 1].item.window.length - group[i].item.window.length
            ),
        )
        taken, group[:] = group[start : start + limit], group[:start] + group[start + limit :]
        rows = self.forward([p.item.features for p in taken])
        for pending, row in zip(taken, rows, strict=True):
            pending.stream.probabilities[pending.item.window] = row
            pending.stream.pending -= 1


class Prefetched(Generic[T]):
    """An iterator advanced ahead of its reader in another thread: the next windows decode while the
    current forward pass runs (torch and the decoders release the GIL)."""

    def __init__(self, source: Iterator[T], executor: Executor, *, chunk: int) -> None:
        self._source = source
        self._executor = executor
        self._chunk = chunk
        self._buffer: deque[T] = deque()
        self._future: Future[list[T]] | None = executor.submit(self._take)

    def _take(self) -> list[T]:
        return list(itertools.islice(self._source, self._chunk))

    def __iter__(self) -> Prefetched[T]:
        return self

    def __next__(self) -> T:
        if not self._buffer:
            if self._future is None:
                raise StopIteration
            items = self._future.result()
            if not items:
                self._future = None
                raise StopIteration
            self._buffer.extend(items)
            self._future = self._executor.submit(self._take)
        return self._buffer.popleft()

    def close(self) -> None:
        """Stop reading ahead, waiting for a read in flight: the source cannot be closed while it runs."""
        future, self._future = self._future, None
        if future is not None and not future.cancel():
            future.exception()
