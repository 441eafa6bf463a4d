"""Holding a request open until its job ends: ``Prefer: wait=N`` (RFC 7240) and ``POST /predict``.

The wait polls the database on its own short sessions between ``asyncio.sleep``s, so a waiting request
holds neither a connection nor a thread, and the event loop keeps serving everyone else. It asks only
for the job's status, first after 10 ms and then at pauses growing by half up to 0.2 s: a short clip
ends within a few tenths of a second, and a fixed 0.2 s pause added 0.1 s to its answer on average,
while a status costs one indexed lookup. The job is read whole once, when it has ended.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable

from fastapi.concurrency import run_in_threadpool

from shared.db import session_scope
from shared.errors import NotFound
from shared.jobs import repository
from shared.models import FINAL_STATUSES
from shared.schemas.jobs import JobRead

FIRST_POLL_SECONDS = 0.01
LONGEST_POLL_SECONDS = 0.2


def requested_wait(prefer_headers: Iterable[str], *, cap: int) -> int | None:
    """Seconds asked for by ``wait=N`` in any ``Prefer`` header, at most ``cap``; None if not asked.
    Preferences the server does not understand, or a malformed value, are ignored as RFC 7240 says."""
    for header in prefer_headers:
        for preference in header.split(","):
            name, _, value = preference.split(";")[0].partition("=")
            if name.strip().lower() != "wait":
                continue
            try:
                seconds = int(value.strip().strip('"'))
            except ValueError:
                continue
            if seconds >= 0:
                return min(seconds, cap)
    return None


async def wait_for_job(
    job_id: uuid.UUID, seconds: float, *, with_segments: bool = True
) -> tuple[JobRead, bool]:
    """The job as it stands once it has ended or ``seconds`` have passed, and whether it has ended."""
    deadline = time.monotonic() + seconds
    pause = FIRST_POLL_SECONDS
    while (left := deadline - time.monotonic()) > 0 and not await run_in_threadpool(_has_ended, job_id):
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 1.5, LONGEST_POLL_SECONDS)
    read = await run_in_threadpool(_read, job_id, with_segments)
    return read, read.status in FINAL_STATUSES


def _has_ended(job_id: uuid.UUID) -> bool:
    """Ended, or deleted while waited on (by its owner, or retention): either way the wait is over."""
    with session_scope() as session:
        status = repository.status_of(session, job_id)
    return status is None or status in FINAL_STATUSES


def _read(job_id: uuid.UUID, with_segments: bool) -> JobRead:
    with session_scope() as session:
        job = repository.get(session, job_id, with_result=True)
        if job is None:
            raise NotFound(f"no job {job_id}", code="job_not_found")
        return JobRead.from_job(job, with_segments=with_segments)
