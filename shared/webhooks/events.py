"""Webhook events: recorded when a job, batch or training ends, listed, re-sent. Functions here flush; whoever
opened the session commits, and the delivery task is sent only after that commit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shared.errors import Conflict
from shared.models import DeliveryStatus, EventType, WebhookAttempt, WebhookEvent
from shared.models.base import utcnow
from shared.webhooks import repository
from shared.webhooks.queue import enqueue_delivery


def build_payload(type: EventType, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The Standard Webhooks envelope."""
    timestamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"type": type.value, "timestamp": timestamp, "data": data}


def record_event(
    session: Session,
    *,
    type: EventType,
    url: str,
    data: dict[str, Any],
    owner_key_id: uuid.UUID | None,
    job_id: uuid.UUID | None = None,
    batch_id: uuid.UUID | None = None,
    training_id: uuid.UUID | None = None,
) -> WebhookEvent:
    """Store the event with its body built once, and send it after commit.

    A receiver that answered 410 Gone for the latest event of this batch (or job, or training) to this URL
    is not sent anything more: the event is stored as disabled, visible in the delivery log.
    """
    if job_id is None and batch_id is None and training_id is None:
        raise ValueError("a webhook event belongs to a job, a batch or a training")
    now = utcnow()
    previous = repository.latest_event_to(
        session, url=url, job_id=job_id, batch_id=batch_id, training_id=training_id
    )
    disabled = previous is not None and previous.status == DeliveryStatus.DISABLED
    event = repository.add_event(
        session,
        WebhookEvent(
            id=uuid.uuid4(),
            created_at=now,
            type=type.value,
            job_id=job_id,
            batch_id=batch_id,
            training_id=training_id,
            owner_key_id=owner_key_id,
            url=url,
            payload=build_payload(type, data, now),
            status=DeliveryStatus.DISABLED if disabled else DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=None if disabled else now,
        ),
    )
    if not disabled:
        enqueue_delivery(session, event.id)
    return event


def resend_last(session: Session, job_id: uuid.UUID) -> WebhookEvent:
    """Deliver the job's latest event again, under the same id, with a fresh retry schedule."""
    event = repository.latest_event_of_job(session, job_id)
    if event is None:
        raise Conflict(f"job {job_id} has no webhook event to re-send", code="no_webhook_event")
    repository.rearm(session, event.id, now=utcnow())
    enqueue_delivery(session, event.id)
    return repository.get_event(session, event.id) or event


def deliveries_of_job(
    session: Session, job_id: uuid.UUID
) -> tuple[list[WebhookEvent], list[tuple[WebhookAttempt, WebhookEvent]]]:
    return repository.events_of_job(session, job_id), repository.attempts_of_job(session, job_id)
