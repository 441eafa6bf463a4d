"""The public contract for webhook deliveries: the events of a job and every attempt to deliver them."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from shared.models import DeliveryStatus, EventType, WebhookAttempt, WebhookEvent
from shared.webhooks.signing import webhook_id


class WebhookEventRead(BaseModel):
    id: uuid.UUID
    webhook_id: str = Field(description="The `webhook-id` header: the same on every retry of this event")
    type: EventType
    url: str
    status: DeliveryStatus
    created_at: datetime
    attempts: int = Field(description="Attempts since the event was last armed (created or re-sent)")
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None

    @classmethod
    def from_event(cls, event: WebhookEvent) -> WebhookEventRead:
        return cls(
            id=event.id,
            webhook_id=webhook_id(event.id),
            type=EventType(event.type),
            url=event.url,
            status=DeliveryStatus(event.status),
            created_at=event.created_at,
            attempts=event.attempts,
            next_attempt_at=event.next_attempt_at,
            delivered_at=event.delivered_at,
            last_status_code=event.last_status_code,
        )


class DeliveryAttemptRead(BaseModel):
    event_id: uuid.UUID
    webhook_id: str
    type: EventType
    url: str
    event_status: DeliveryStatus
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's answer; null when none came")
    latency_ms: float | None
    error: str | None
    succeeded: bool

    @classmethod
    def from_rows(cls, attempt: WebhookAttempt, event: WebhookEvent) -> DeliveryAttemptRead:
        return cls(
            event_id=event.id,
            webhook_id=webhook_id(event.id),
            type=EventType(event.type),
            url=event.url,
            event_status=DeliveryStatus(event.status),
            attempted_at=attempt.attempted_at,
            status_code=attempt.status_code,
            latency_ms=attempt.latency_ms,
            error=attempt.error,
            succeeded=attempt.succeeded,
        )


class DeliveryLog(BaseModel):
    events: list[WebhookEventRead] = Field(description="The job's events, newest first")
    attempts: list[DeliveryAttemptRead] = Field(description="Every attempt at every event, newest first")

    @classmethod
    def build(
        cls, events: list[WebhookEvent], attempts: list[tuple[WebhookAttempt, WebhookEvent]]
    ) -> DeliveryLog:
        return cls(
            events=[WebhookEventRead.from_event(event) for event in events],
            attempts=[DeliveryAttemptRead.from_rows(attempt, event) for attempt, event in attempts],
        )
