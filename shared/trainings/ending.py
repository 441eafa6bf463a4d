"""What follows the end of a training, whichever way it ended, in the transaction that ended it."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from shared.models import EventType, TrainingStatus
from shared.schemas.trainings import TrainingRead
from shared.trainings import repository
from shared.webhooks.events import record_event

EVENT_FOR_STATUS = {
    TrainingStatus.SUCCEEDED: EventType.TRAINING_SUCCEEDED,
    TrainingStatus.FAILED: EventType.TRAINING_FAILED,
}


def training_ended(session: Session, training_id: uuid.UUID) -> None:
    """Its webhook event, when it asked for one; a cancellation is the owner's own doing and has none."""
    training = repository.get(session, training_id)
    if training is None or training.webhook_url is None:
        return
    event = EVENT_FOR_STATUS.get(TrainingStatus(training.status))
    if event is None:
        return
    record_event(
        session,
        type=event,
        url=training.webhook_url,
        data=TrainingRead.from_training(training).model_dump(mode="json"),
        owner_key_id=training.owner_key_id,
        training_id=training.id,
    )
