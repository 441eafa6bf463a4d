"""Delivering events: claim in one transaction, POST with no transaction open, record in another.

The database is the source of truth for what is due. A lost or duplicated message only delays a
delivery or is dropped by the claim; the periodic dispatch sends whatever is due and unclaimed.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import nullcontext
from datetime import datetime, timedelta

from shared.config import Settings
from shared.db import session_scope
from shared.logs import bind_job
from shared.models.base import utcnow
from shared.webhooks import service
from shared.webhooks.attempt import post_event
from shared.webhooks.metrics import count_attempt
from shared.webhooks.secrets import signing_secrets
from shared.webhooks.service import DeliveryOutcome

log = logging.getLogger(__name__)

DISPATCH_LIMIT = 500
# How long a dispatched message may wait in the queue before the event is sent again.
DISPATCH_HOLD = timedelta(minutes=2)
LEASE_MARGIN = timedelta(seconds=30)


def attempt_lease(settings: Settings) -> timedelta:
    """Longer than one attempt can take: connect, send and wait for the answer, each up to the timeout,
    with a second address tried if the first does not connect."""
    return timedelta(seconds=4 * settings.webhook_timeout_seconds) + LEASE_MARGIN


def deliver_event(
    event_id: uuid.UUID, settings: Settings, *, reservation: datetime | None = None
) -> DeliveryOutcome:
    """Make one attempt if the event is due and free. Safe to call any number of times."""
    with session_scope() as session:
        claimed = service.claim_event(
            session, event_id, lease=attempt_lease(settings), reservation=reservation
        )
        # Read with the claim, so no session stays open over HTTP; kept in memory for this attempt only.
        secrets = signing_secrets(session, claimed.owner_key_id, settings, at=utcnow()) if claimed else []
    if claimed is None:
        return DeliveryOutcome.SKIPPED
    # A job's event: every line of its attempt carries the job id, as the worker's lines do.
    with bind_job(str(claimed.job_id)) if claimed.job_id else nullcontext():
        result = post_event(claimed.id, claimed.url, claimed.body, secrets, settings)
        with session_scope() as session:
            outcome = service.record_attempt(
                session, claimed, result, retry_delays=settings.webhook_retry_delays
            )
        count_attempt(outcome, result)
        log.info(
            "webhook attempt",
            extra={
                "event_id": str(event_id),
                "outcome": outcome.value,
                "status_code": result.status_code,
                "latency_ms": result.latency_ms,
                "error": result.error,
            },
        )
    return outcome


def dispatch_due(*, limit: int = DISPATCH_LIMIT) -> list[uuid.UUID]:
    """Send a delivery task for each pending event that is due and not held; returns their ids."""
    with session_scope() as session:
        return service.reserve_due_events(session, limit=limit, hold=DISPATCH_HOLD)
