"""Thin task shells for webhook delivery. No model here: webhook workers never import torch."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from shared.broker import TaskName, get_celery
from shared.config import get_settings
from shared.db import is_transient
from shared.webhooks.delivery import deliver_event, dispatch_due
from worker.retries import retrying_transient_failures, transient_retry_options

log = logging.getLogger(__name__)
app = get_celery()


@app.task(
    name=TaskName.DELIVER_WEBHOOK,
    acks_late=True,
    reject_on_worker_lost=True,
    **transient_retry_options(),
)
def deliver(event_id: str, reservation: str | None = None) -> None:
    """One attempt at one event, if it is due and free; a duplicate message finds it claimed and ends.

    Only a database outage retries the task, with Celery's backoff. A receiver that fails is not retried
    here: the attempt is recorded and the event falls due again on EMOQ_WEBHOOK_RETRY_SCHEDULE, a list of
    arbitrary delays (minutes to hours, each set by the operator) that a factor and a cap cannot express,
    and that must survive worker restarts, so it lives in the database, not in a broker countdown."""
    with retrying_transient_failures():
        deliver_event(
            uuid.UUID(event_id),
            get_settings(),
            reservation=datetime.fromisoformat(reservation) if reservation else None,
        )


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
