"""Per-key limits on submissions: jobs created per rolling minute, and jobs queued or processing at once.

Counted in the database, so every API replica sees the same numbers and nothing else is needed. With auth
disabled there is one local user and no limits.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shared.auth import repository as keys
from shared.auth.caller import Caller
from shared.config import get_settings
from shared.errors import TooManyRequests
from shared.jobs import repository
from shared.models.base import utcnow

WINDOW = timedelta(minutes=1)
# How long a client over its quota should wait: jobs take seconds to minutes, so this is a guess.
ACTIVE_RETRY_AFTER_SECONDS = 30


def admit(session: Session, caller: Caller, *, jobs: int, active: int) -> None:
    """Let ``jobs`` new jobs in (``active`` of them queued), or refuse with 429.

    A single request larger than a limit (a big batch) is let in only when nothing else counts against
    that limit; refusing it outright would make a batch over the limit impossible to submit at all.
    """
    if caller.key_id is None or jobs == 0:
        return
    now = utcnow()
    keys.lock_for_submission(session, caller.key_id, at=now)
    _refuse_over_limits(session, caller, jobs=jobs, active=active, now=now)


def refuse_if_full(session: Session, caller: Caller) -> None:
    """Before an upload is read: a key already at a limit is refused at once, not after it has sent its
    100 MB. Only a first look, without the lock; ``admit`` decides when the jobs are created."""
    if caller.key_id is not None:
        _refuse_over_limits(session, caller, jobs=1, active=1, now=utcnow())


def _refuse_over_limits(session: Session, caller: Caller, *, jobs: int, active: int, now: datetime) -> None:
    settings = get_settings()
    since = now - WINDOW
    recent = repository.count_created_since(session, caller, since)
    limit = settings.rate_limit_per_minute
    if recent and recent + jobs > limit:
        # Wait until enough of the last minute's jobs have aged out (all of them, for an oversized batch).
        must_expire = min(recent + jobs - limit, recent)
        oldest = repository.nth_created_since(session, caller, since, must_expire) or now
        raise TooManyRequests(
            f"this API key may submit {limit} jobs per minute",
            code="rate_limited",
            retry_after=math.ceil((oldest + WINDOW - now).total_seconds()),
        )

    running = repository.count_active(session, caller) if active else 0
    quota = settings.max_active_jobs_per_key
    if running and running + active > quota:
        raise TooManyRequests(
            f"this API key may have {quota} jobs queued or processing at once; {running} are",
            code="too_many_active_jobs",
            retry_after=ACTIVE_RETRY_AFTER_SECONDS,
        )
