"""Every SQL statement about webhook events and their delivery attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from shared.models import DeliveryStatus, WebhookAttempt, WebhookEvent


def add_event(session: Session, event: WebhookEvent) -> WebhookEvent:
    session.add(event)
    session.flush()
    return event


def get_event(session: Session, event_id: uuid.UUID) -> WebhookEvent | None:
    return session.get(WebhookEvent, event_id, populate_existing=True)


def latest_event_to(
    session: Session,
    *,
    url: str,
    job_id: uuid.UUID | None,
    batch_id: uuid.UUID | None,
    training_id: uuid.UUID | None = None,
) -> WebhookEvent | None:
    """The newest event of this batch (or, outside a batch, this job; or this training) to this URL."""
    if training_id is not None:
        scope = WebhookEvent.training_id == training_id
    elif batch_id is not None:
        scope = WebhookEvent.batch_id == batch_id
    else:
        scope = WebhookEvent.job_id == job_id
    query = (
        select(WebhookEvent)
        .where(scope, WebhookEvent.url == url)
        .order_by(WebhookEvent.created_at.desc(), WebhookEvent.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def latest_event_of_job(session: Session, job_id: uuid.UUID) -> WebhookEvent | None:
    query = (
        select(WebhookEvent)
        .where(WebhookEvent.job_id == job_id)
        .order_by(WebhookEvent.created_at.desc(), WebhookEvent.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def _claimable(now: datetime, reservation: datetime | None = None) -> ColumnElement[bool]:
    lease_free = or_(WebhookEvent.lease_until.is_(None), WebhookEvent.lease_until < now)
    if reservation is not None:
        # The dispatcher reserved the event for the message that carries this very lease.
        lease_free = or_(lease_free, WebhookEvent.lease_until == reservation)
    return (
        (WebhookEvent.status == DeliveryStatus.PENDING) & (WebhookEvent.next_attempt_at <= now) & lease_free
    )


def claim(
    session: Session,
    event_id: uuid.UUID,
    *,
    now: datetime,
    lease_until: datetime,
    reservation: datetime | None = None,
) -> bool:
    """Take a due, pending event whose lease is free. Atomic: one UPDATE decides between workers."""
    result = session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id, _claimable(now, reservation))
        .values(lease_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def due_event_ids(session: Session, *, now: datetime, limit: int) -> list[uuid.UUID]:
    query = (
        select(WebhookEvent.id)
        .where(_claimable(now))
        .order_by(WebhookEvent.next_attempt_at, WebhookEvent.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def release_claim(session: Session, event_id: uuid.UUID, *, lease_until: datetime, **values: Any) -> bool:
    """Record an attempt's outcome on the event, only if this claim (its lease) still holds it."""
    result = session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id, WebhookEvent.lease_until == lease_until)
        .values(lease_until=None, attempts=WebhookEvent.attempts + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def rearm(session: Session, event_id: uuid.UUID, *, now: datetime) -> None:
    """Pending again from now, with a fresh retry schedule. A live lease is left alone: an attempt in
    flight finishes first."""
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id)
        .values(status=DeliveryStatus.PENDING, next_attempt_at=now, attempts=0)
        .execution_options(synchronize_session=False)
    )


def add_attempt(session: Session, attempt: WebhookAttempt) -> None:
    session.add(attempt)
    session.flush()


def attempts_of_job(session: Session, job_id: uuid.UUID) -> list[tuple[WebhookAttempt, WebhookEvent]]:
    """Every attempt at every event of the job, newest first."""
    query = (
        select(WebhookAttempt, WebhookEvent)
        .join(WebhookEvent, WebhookAttempt.event_id == WebhookEvent.id)
        .where(WebhookEvent.job_id == job_id)
        .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc())
    )
    return [(attempt, event) for attempt, event in session.execute(query)]


def events_of_job(session: Session, job_id: uuid.UUID) -> list[WebhookEvent]:
    query = (
        select(WebhookEvent)
        .where(WebhookEvent.job_id == job_id)
        .order_by(WebhookEvent.created_at.desc(), WebhookEvent.id.desc())
    )
    return list(session.scalars(query))
