"""Sending delivery tasks to the broker, always after the database has committed the event."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from shared.broker import Queue, TaskName, get_celery
from shared.db import after_commit

log = logging.getLogger(__name__)


def send_delivery(event_id: uuid.UUID, reservation: datetime | None = None) -> None:
    args = [str(event_id)] if reservation is None else [str(event_id), reservation.isoformat()]
    try:
        get_celery().send_task(TaskName.DELIVER_WEBHOOK, args=args, queue=Queue.WEBHOOKS)
    except Exception:
        # The event is committed and due: the next dispatch of due events sends it.
        log.exception("could not send a webhook delivery", extra={"event_id": str(event_id)})


def enqueue_delivery(session: Session, event_id: uuid.UUID, *, reservation: datetime | None = None) -> None:
    after_commit(session, lambda: send_delivery(event_id, reservation))
