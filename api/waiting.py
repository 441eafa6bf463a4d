"""Holding a request open until its job ends: ``Prefer: wait=N`` (RFC 7240) and ``POST /predict``.

The wait polls the database on its own short sessions between ``asyncio.sleep``s, so a waiting request
holds neither a connection nor a thread, and the event loop keeps serving everyone else.
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

POLL_SECONDS = 0.2


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


async def wait_for_job(job_id: uuid.UUID, seconds: float) -> tuple[JobRead, bool]:
    """The job as it stands once it has ended or ``seconds`` have passed, and whether it has ended."""
    deadline = time.monotonic() + seconds
    while True:
        read = await run_in_threadpool(_read, job_id)
        final = read.status in FINAL_STATUSES
        left = deadline - time.monotonic()
        if final or left <= 0:
            return read, final
        await asyncio.sleep(min(POLL_SECONDS, left))


def _read(job_id: uuid.UUID) -> JobRead:
    with session_scope() as session:
        job = repository.get(session, job_id, with_result=True)
        if job is None:
            # Deleted while waited on (by its owner, or retention).
            raise NotFound(f"no job {job_id}", code="job_not_found")
        return JobRead.from_job(job)
