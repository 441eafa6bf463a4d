"""Keeping a worker's leases alive, and its jobs' progress current, from a thread of its own.

A forward pass can outlast a lease (a large model at emulated bf16 on a busy CPU takes minutes per
pass), and a lease must not expire while its worker is alive and working on the job: the reconciler
would send the job to another worker, which would do it all again. So the renewal does not wait for
passes to end. Each renewal is one statement for every held job; it runs a few times a second at most,
and only when the progress of some job held for PROGRESS_AFTER_SECONDS moved by PROGRESS_STEP, or the
leases are a third of the way to expiring. Jobs it finds no longer held (cancelled, or taken over) are
handed to the main loop.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from shared import leases
from shared.db import session_scope
from shared.models import Job

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.25
PROGRESS_STEP = 0.02
# A recording answered within a second is over before anyone could watch its progress: under a stream of
# short clips, writing theirs was a tenth of a worker process's time. One cancelled that young runs to its
# end, which its conditional UPDATE then refuses.
PROGRESS_AFTER_SECONDS = 1.0


class LeaseKeeper:
    def __init__(
        self,
        owner: str,
        *,
        lease_seconds: int,
        progress_of: Callable[[], dict[uuid.UUID, float]],
        table: leases.Leased = Job,
    ) -> None:
        """``progress_of`` returns the progress of every held row of ``table`` (jobs, or trainings); it
        is called from the thread."""
        self.owner = owner
        self.table = table
        self.lease_seconds = lease_seconds
        self.progress_of = progress_of
        self._reported: dict[uuid.UUID, float] = {}
        self._held_since: dict[uuid.UUID, float] = {}
        self._lost: set[uuid.UUID] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last_write = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def lost(self) -> set[uuid.UUID]:
        """The jobs found no longer held since the last call."""
        with self._lock:
            lost, self._lost = self._lost, set()
        return lost

    def _loop(self) -> None:
        while not self._stop.wait(PROGRESS_INTERVAL_SECONDS):
            try:
                self.renew_if_due()
            except Exception:
                # The database is away: the main loop meets the same error at its next statement and
                # hands the jobs back; if it stays away, the leases expire as they should.
                log.warning("could not renew the leases", exc_info=True)

    def renew_if_due(self) -> None:
        progress = self.progress_of()
        now = time.monotonic()
        self._held_since = {job_id: self._held_since.get(job_id, now) for job_id in progress}
        lease_due = now - self._last_write > self.lease_seconds / 3
        moved = any(
            p - self._reported.get(job_id, 0.0) >= PROGRESS_STEP
            and now - self._held_since[job_id] >= PROGRESS_AFTER_SECONDS
            for job_id, p in progress.items()
        )
        if not progress or not (lease_due or moved):
            return
        with session_scope() as session:
            held = leases.renew_owned(
                session, self.table, self.owner, progress, lease_seconds=self.lease_seconds
            )
        self._last_write = time.monotonic()
        self._reported = {job_id: p for job_id, p in progress.items() if job_id in held}
        with self._lock:
            self._lost |= progress.keys() - held
