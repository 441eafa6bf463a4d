"""The reconciler's part for trainings, on the embedded default (SQLite, the filesystem broker): abandoned
trainings queued again or, out of attempts, failed once with their webhook; lost messages sent again once."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shared.broker import Queue, TaskName, get_celery
from shared.config import Settings
from shared.db import session_scope
from shared.jobs.lease import ClaimOutcome
from shared.models import EventType, Training, TrainingStatus, WebhookEvent
from shared.models.base import utcnow
from shared.recovery.broker_depth import waiting_messages
from shared.trainings import lease
from shared.trainings.recovery import reconcile_trainings

AGES_AGO = timedelta(hours=1)


def settings_for(embedded: Settings) -> Settings:
    return embedded.model_copy(update={"max_attempts": 2, "requeue_after_seconds": 60.0})


def add_training(
    status: TrainingStatus = TrainingStatus.QUEUED,
    *,
    enqueued_ago: timedelta = AGES_AGO,
    lease_left: timedelta | None = None,
    attempts: int = 0,
) -> uuid.UUID:
    training_id = uuid.uuid4()
    with session_scope() as session:
        session.add(
            Training(
                id=training_id,
                status=status,
                enqueued_at=utcnow() - enqueued_ago,
                params={"epochs": 2},
                epochs=[],
                attempts=attempts,
                webhook_url="https://hooks.example.com/emoq",
                lease_owner="a-worker" if lease_left is not None else None,
                lease_expires_at=utcnow() + lease_left if lease_left is not None else None,
            )
        )
    return training_id


def training(training_id: uuid.UUID) -> Training:
    with session_scope() as session:
        row = session.get(Training, training_id)
        assert row is not None
        return row


def events_of(training_id: uuid.UUID) -> list[str]:
    with session_scope() as session:
        rows = session.query(WebhookEvent.type).filter(WebhookEvent.training_id == training_id)
        return [event_type for (event_type,) in rows]


def waiting() -> int:
    return waiting_messages([Queue.TRAINING.value])[Queue.TRAINING.value]


def test_abandoned_trainings_are_queued_again_or_failed_once_out_of_attempts(embedded: Settings) -> None:
    settings = settings_for(embedded)
    expired = -timedelta(seconds=1)
    retry = add_training(TrainingStatus.RUNNING, lease_left=expired, attempts=1)
    spent = add_training(TrainingStatus.RUNNING, lease_left=expired, attempts=2)
    alive = add_training(TrainingStatus.RUNNING, lease_left=timedelta(minutes=1), attempts=1)

    report = reconcile_trainings(settings)
    again = reconcile_trainings(settings)

    assert (report.requeued, report.failed) == (1, 1) and not again
    requeued = training(retry)
    assert requeued.status == TrainingStatus.QUEUED and requeued.lease_owner is None
    failed = training(spent)
    assert (failed.status, failed.error_code) == (TrainingStatus.FAILED, "training_interrupted")
    assert events_of(spent) == [EventType.TRAINING_FAILED] and events_of(retry) == []
    assert training(alive).status == TrainingStatus.RUNNING
    # The requeued one is sent again; its message is the one a worker claims it from.
    assert waiting() == 1
    with session_scope() as session:
        claimed = lease.claim_training(session, retry, owner="b", lease_seconds=60, max_attempts=2)
    assert claimed is ClaimOutcome.CLAIMED and training(retry).attempts == 2


def test_a_claim_never_starts_an_attempt_past_the_limit(embedded: Settings) -> None:
    spent = add_training(TrainingStatus.RUNNING, lease_left=-timedelta(seconds=1), attempts=2)

    with session_scope() as session:
        outcome = lease.claim_training(session, spent, owner="b", lease_seconds=60, max_attempts=2)

    assert outcome is ClaimOutcome.DONE
    assert training(spent).error_code == "training_interrupted" and len(events_of(spent)) == 1


def test_queued_trainings_whose_messages_were_lost_are_sent_again_once(embedded: Settings) -> None:
    settings = settings_for(embedded)
    lost = add_training()
    add_training(enqueued_ago=timedelta(seconds=1))  # its message may still be on its way: left alone
    waiting_one = add_training(enqueued_ago=timedelta(seconds=1))
    get_celery().send_task(TaskName.TRAIN, args=[str(waiting_one)], queue=Queue.TRAINING.value)

    first = reconcile_trainings(settings)
    second = reconcile_trainings(settings)

    # Three queued, one message: two are missing, but only the stale one is old enough to send again.
    assert first.resent == 1 and training(lost).enqueued_at > utcnow() - timedelta(seconds=30)
    assert waiting() == 2
    assert second.resent == 0
