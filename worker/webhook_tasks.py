"""Thin task shells for webhook delivery. No model here: webhook workers never import torch."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from celery import Task

from shared.broker import TaskName, get_celery
from shared.config import get_settings
from shared.db import is_transient
from shared.webhooks.delivery import deliver_event, dispatch_due

log = logging.getLogger(__name__)
app = get_celery()


def backoff_seconds(retries: int) -> int:
    return min(2 ** (retries + 1), 300)


@app.task(name=TaskName.DELIVER_WEBHOOK, bind=True, acks_late=True, reject_on_worker_lost=True)
def deliver(self: Task, event_id: str, reservation: str | None = None) -> None:
    """One attempt at one event, if it is due and free; a duplicate message finds it claimed and ends."""
    settings = get_settings()
    try:
        deliver_event(
            uuid.UUID(event_id),
            settings,
            reservation=datetime.fromisoformat(reservation) if reservation else None,
        )
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.warning("database unavailable, retrying", extra={"event_id": event_id})
        raise self.retry(
            exc=exc, countdown=backoff_seconds(self.request.retries), max_retries=settings.task_max_retries
        ) from exc


@app.task(name=TaskName.DISPATCH_DUE_WEBHOOKS, acks_late=True, reject_on_worker_lost=True)
def dispatch() -> None:
    """Sent by celery beat. A failed run needs no retry: the next tick does the same work."""
    try:
        sent = dispatch_due()
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.warning("database unavailable; due webhooks wait for the next dispatch")
        return
    if sent:
        log.info("dispatched due webhooks", extra={"count": len(sent)})
