"""Delivery state in domain terms: claim an event for one attempt, record how the attempt went and
what follows (delivered, disabled, retried later, failed), reserve due events for dispatch.
Functions here flush; whoever opened the session commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from shared.models import DeliveryStatus, WebhookAttempt
from shared.models.base import utcnow
from shared.webhooks import repository
from shared.webhooks.attempt import AttemptResult
from shared.webhooks.queue import enqueue_delivery
from shared.webhooks.signing import encode_body


class DeliveryOutcome(StrEnum):
    SKIPPED = "skipped"  # not due, final, gone, or another delivery holds it
    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"
    DISABLED = "disabled"


@dataclass(frozen=True)
class ClaimedEvent:
    """What one attempt needs, read while the claim was made, so no session stays open over HTTP."""

    id: uuid.UUID
    url: str
    body: str
    lease_until: datetime
    job_id: uuid.UUID | None  # None for a batch's event
    owner_key_id: uuid.UUID | None  # whose secret signs it; None: the server-wide secret


def claim_event(
    session: Session, event_id: uuid.UUID, *, lease: timedelta, reservation: datetime | None = None
) -> ClaimedEvent | None:
    """Take a due event for one attempt, or None when it is not due, final, gone or held elsewhere."""
    now = utcnow()
    lease_until = now + lease
    if not repository.claim(session, event_id, now=now, lease_until=lease_until, reservation=reservation):
        return None
    event = repository.get_event(session, event_id)
    if event is None:
        return None
    return ClaimedEvent(
        id=event.id,
        url=event.url,
        body=encode_body(event.payload),
        lease_until=lease_until,
        job_id=event.job_id,
        owner_key_id=event.owner_key_id,
    )


def record_attempt(
    session: Session, claimed: ClaimedEvent, result: AttemptResult, *, retry_delays: list[int]
) -> DeliveryOutcome:
    """Store the attempt, then move the event on: delivered, disabled, retried later, or failed."""
    repository.add_attempt(
        session,
        WebhookAttempt(
            event_id=claimed.id,
            attempted_at=result.attempted_at,
            succeeded=result.succeeded,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error,
        ),
    )
    event = repository.get_event(session, claimed.id)
    attempt_number = (event.attempts if event is not None else 0) + 1
    outcome, values = _next_step(result, attempt_number, retry_delays)
    if not repository.release_claim(
        session, claimed.id, lease_until=claimed.lease_until, last_status_code=result.status_code, **values
    ):
        # The lease ran out mid-attempt and another delivery took over; it decides the event's state.
        return DeliveryOutcome.SKIPPED
    return outcome


def _next_step(
    result: AttemptResult, attempt_number: int, retry_delays: list[int]
) -> tuple[DeliveryOutcome, dict[str, Any]]:
    now = utcnow()
    if result.succeeded:
        return DeliveryOutcome.DELIVERED, {
            "status": DeliveryStatus.DELIVERED,
            "delivered_at": now,
            "next_attempt_at": None,
        }
    if result.refused:
        return DeliveryOutcome.FAILED, {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    if result.gone:
        return DeliveryOutcome.DISABLED, {"status": DeliveryStatus.DISABLED, "next_attempt_at": None}
    if attempt_number <= len(retry_delays):
        delay = timedelta(seconds=retry_delays[attempt_number - 1])
        return DeliveryOutcome.RETRYING, {"next_attempt_at": now + delay}
    return DeliveryOutcome.FAILED, {"status": DeliveryStatus.FAILED, "next_attempt_at": None}


def reserve_due_events(session: Session, *, limit: int, hold: timedelta) -> list[uuid.UUID]:
    """Send every due event with a reservation that only its own message can claim.

    The hold keeps the next dispatch from sending the same event again while the first message waits
    in the queue; if that message is lost, the hold runs out and a later dispatch sends another.
    """
    now = utcnow()
    until = now + hold
    reserved = [
        event_id
        for event_id in repository.due_event_ids(session, now=now, limit=limit)
        if repository.claim(session, event_id, now=now, lease_until=until)
    ]
    for event_id in reserved:
        enqueue_delivery(session, event_id, reservation=until)
    return reserved
