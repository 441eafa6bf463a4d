"""The moment a batch is complete: noticed exactly once, by the transaction that ends its last job."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from shared.batches import repository
from shared.batches.summary import summarize
from shared.models import EventType
from shared.webhooks.events import record_event


def note_job_ended(session: Session, batch_id: uuid.UUID) -> None:
    # The batch row is locked first, so of two jobs ending together the second waits and sees the first.
    batch = repository.get(session, batch_id, for_update=True)
    if batch is None or batch.finished_at is not None or repository.unfinished_count(session, batch_id):
        return
    if not repository.mark_finished(session, batch_id):
        return
    batch = repository.get(session, batch_id)
    if batch is not None and batch.webhook_url is not None:
        record_event(
            session,
            type=EventType.BATCH_COMPLETED,
            url=batch.webhook_url,
            data=summarize(session, batch).model_dump(mode="json"),
            owner_key_id=batch.owner_key_id,
            batch_id=batch_id,
        )
