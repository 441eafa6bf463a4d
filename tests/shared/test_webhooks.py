"""Webhook events and their delivery against a real receiver, on a migrated database."""

from __future__ import annotations

import base64
import io
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from shared.config import Settings
from shared.db import session_scope
from shared.errors import Conflict
from shared.logs import JsonFormatter
from shared.models import Batch, DeliveryStatus, EventType, Job, JobStatus, WebhookAttempt, WebhookEvent
from shared.models.base import utcnow
from shared.webhooks import events, queue
from shared.webhooks.delivery import deliver_event, dispatch_due
from shared.webhooks.server_secret import server_secret
from shared.webhooks.service import DeliveryOutcome
from tests.webhook_receiver import Reply, WebhookReceiver

SECRET = "whsec_" + base64.b64encode(b"emoq-webhook-test-secret-32byte!").decode()
Sent = list[tuple[uuid.UUID, datetime | None]]


@pytest.fixture
def settings(embedded: Settings) -> Settings:
    return embedded.model_copy(
        update={
            "webhook_secret": SecretStr(SECRET),
            "webhook_retry_schedule": "0,0,0",
            # Long enough for the local receiver to answer on a loaded machine, short of its 5 s slow reply.
            "webhook_timeout_seconds": 2.0,
            "allowed_private_hosts": "127.0.0.1",
        }
    )


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """Delivery tasks sent after commit, captured instead of going to the broker."""
    calls: Sent = []
    monkeypatch.setattr(
        queue, "send_delivery", lambda event_id, reservation=None: calls.append((event_id, reservation))
    )
    return calls


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as running:
        yield running


def new_job(*, batch_id: uuid.UUID | None = None) -> uuid.UUID:
    with session_scope() as session:
        job = Job(id=uuid.uuid4(), status=JobStatus.SUCCEEDED, batch_id=batch_id)
        session.add(job)
    return job.id


def record(job_id: uuid.UUID, url: str, *, batch_id: uuid.UUID | None = None) -> uuid.UUID:
    with session_scope() as session:
        event = events.record_event(
            session,
            type=EventType.JOB_SUCCEEDED,
            url=url,
            data={"job_id": str(job_id), "dominant": {"label": "happy", "score": 0.9}},
            owner_key_id=None,
            job_id=job_id,
            batch_id=batch_id,
        )
        return event.id


def event_row(event_id: uuid.UUID) -> WebhookEvent:
    with session_scope() as session:
        event = session.get(WebhookEvent, event_id)
        assert event is not None
        return event


def attempt_rows(event_id: uuid.UUID) -> list[WebhookAttempt]:
    with session_scope() as session:
        query = select(WebhookAttempt).where(WebhookAttempt.event_id == event_id)
        return list(session.scalars(query.order_by(WebhookAttempt.attempted_at)))


def set_event(event_id: uuid.UUID, **values: object) -> None:
    with session_scope() as session:
        session.execute(update(WebhookEvent).where(WebhookEvent.id == event_id).values(**values))


def test_an_event_is_sent_after_commit_signed_and_verifiable(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    job_id = new_job()
    event_id = record(job_id, receiver.url())
    assert sent == [(event_id, None)]

    assert deliver_event(event_id, settings) is DeliveryOutcome.DELIVERED

    [request] = receiver.received()
    assert request.verified
    payload = Webhook(SECRET).verify(request.body, request.headers)
    assert payload["type"] == "job.succeeded"
    assert payload["data"] == {"job_id": str(job_id), "dominant": {"label": "happy", "score": 0.9}}
    assert datetime.fromisoformat(payload["timestamp"]).tzinfo is not None
    assert request.webhook_id == f"msg_{event_id.hex}"
    assert request.headers["content-type"] == "application/json"
    assert "EmoQ" in request.headers["user-agent"]
    event = event_row(event_id)
    assert (event.status, event.attempts, event.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert event.delivered_at is not None and event.lease_until is None
    [attempt] = attempt_rows(event_id)
    assert attempt.succeeded and attempt.status_code == 200 and attempt.error is None
    assert attempt.latency_ms is not None and attempt.latency_ms > 0


def test_every_line_of_a_jobs_delivery_carries_the_job_id(
    settings: Settings, sent: Sent, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = new_job()
    event_id = record(job_id, receiver.url())
    caplog.set_level(logging.INFO, logger="shared.webhooks")
    # Formatted as it is logged, the way production writes JSON lines, while the job id is bound.
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    logging.getLogger("shared.webhooks").addHandler(handler)
    try:
        deliver_event(event_id, settings)
    finally:
        logging.getLogger("shared.webhooks").removeHandler(handler)

    [attempt] = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert (attempt["msg"], attempt["job_id"], attempt["event_id"]) == (
        "webhook attempt",
        str(job_id),
        str(event_id),
    )


def test_an_event_recorded_in_a_rolled_back_transaction_is_never_sent(settings: Settings, sent: Sent) -> None:
    job_id = new_job()
    with pytest.raises(RuntimeError), session_scope() as session:
        events.record_event(
            session,
            type=EventType.JOB_FAILED,
            url="http://127.0.0.1:9/",
            data={},
            owner_key_id=None,
            job_id=job_id,
        )
        raise RuntimeError("the job's own transaction fails")
    assert sent == []


def test_a_500_then_200_makes_two_attempts_under_one_id_with_the_same_body(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    receiver.script("/hook", 500, 200)
    event_id = record(new_job(), receiver.url())

    assert deliver_event(event_id, settings) is DeliveryOutcome.RETRYING
    assert event_row(event_id).status == DeliveryStatus.PENDING
    assert deliver_event(event_id, settings) is DeliveryOutcome.DELIVERED

    first, second = receiver.received()
    assert first.verified and second.verified
    assert first.webhook_id == second.webhook_id == f"msg_{event_id.hex}"
    assert first.body == second.body
    assert [(a.status_code, a.succeeded) for a in attempt_rows(event_id)] == [(500, False), (200, True)]
    assert event_row(event_id).status == DeliveryStatus.DELIVERED


def test_a_timeout_is_an_attempt_with_an_error_and_a_retry(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    event_id = record(new_job(), receiver.url("/slow/5"))
    before = utcnow()

    assert deliver_event(event_id, settings) is DeliveryOutcome.RETRYING

    [attempt] = attempt_rows(event_id)
    assert not attempt.succeeded and attempt.status_code is None
    assert attempt.error is not None and "timed out" in attempt.error
    assert attempt.latency_ms is not None and attempt.latency_ms >= 400
    event = event_row(event_id)
    assert event.status == DeliveryStatus.PENDING and event.attempts == 1 and event.lease_until is None
    assert event.next_attempt_at is not None and event.next_attempt_at >= before


def test_retries_wait_for_the_schedule(embedded: Settings, sent: Sent, receiver: WebhookReceiver) -> None:
    settings = embedded.model_copy(
        update={
            "webhook_secret": SecretStr(SECRET),
            "webhook_retry_schedule": "60",
            "allowed_private_hosts": "127.0.0.1",
        }
    )
    event_id = record(new_job(), receiver.url("/status/503"))
    assert deliver_event(event_id, settings) is DeliveryOutcome.RETRYING
    next_attempt_at = event_row(event_id).next_attempt_at
    assert next_attempt_at is not None and next_attempt_at > utcnow() + timedelta(seconds=50)
    assert deliver_event(event_id, settings) is DeliveryOutcome.SKIPPED
    assert len(attempt_rows(event_id)) == 1


def test_410_disables_the_url_for_later_events_of_the_job(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    job_id = new_job()
    gone = receiver.url("/gone")
    first = record(job_id, gone)
    assert deliver_event(first, settings) is DeliveryOutcome.DISABLED
    assert event_row(first).status == DeliveryStatus.DISABLED

    later = record(job_id, gone)
    elsewhere = record(job_id, receiver.url("/other"))

    assert event_row(later).status == DeliveryStatus.DISABLED
    assert [event_id for event_id, _ in sent] == [first, elsewhere]
    assert deliver_event(later, settings) is DeliveryOutcome.SKIPPED
    assert deliver_event(elsewhere, settings) is DeliveryOutcome.DELIVERED
    assert [r.path for r in receiver.received()] == ["/gone", "/other"]
    assert attempt_rows(later) == []


def test_410_for_a_batch_event_disables_the_batch_url(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    with session_scope() as session:
        batch = Batch(id=uuid.uuid4(), job_count=2)
        session.add(batch)
    one, two = new_job(batch_id=batch.id), new_job(batch_id=batch.id)
    first = record(one, receiver.url("/gone"), batch_id=batch.id)
    assert deliver_event(first, settings) is DeliveryOutcome.DISABLED
    assert event_row(record(two, receiver.url("/gone"), batch_id=batch.id)).status == DeliveryStatus.DISABLED


def test_the_schedule_runs_out_into_failed_with_every_attempt_a_row(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    event_id = record(new_job(), receiver.url("/status/500"))
    outcomes = [deliver_event(event_id, settings) for _ in range(5)]

    assert outcomes == [DeliveryOutcome.RETRYING] * 3 + [DeliveryOutcome.FAILED, DeliveryOutcome.SKIPPED]
    attempts = attempt_rows(event_id)
    assert len(attempts) == 4 == len(receiver.received())
    assert all(a.status_code == 500 and not a.succeeded for a in attempts)
    event = event_row(event_id)
    assert (event.status, event.attempts, event.next_attempt_at) == (DeliveryStatus.FAILED, 4, None)
    assert len({r.webhook_id for r in receiver.received()}) == 1


def test_without_a_secret_the_attempt_fails_with_a_clear_error(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    # In production: loopback development would make a secret of its own.
    unsigned = settings.model_copy(update={"webhook_secret": None, "env": "production"})
    event_id = record(new_job(), receiver.url())
    assert deliver_event(event_id, unsigned) is DeliveryOutcome.RETRYING
    [attempt] = attempt_rows(event_id)
    assert attempt.error is not None and "EMOQ_WEBHOOK_SECRET" in attempt.error
    assert receiver.received() == []


def test_a_refused_url_fails_the_delivery_at_once_without_a_request(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    guarded = settings.model_copy(update={"allowed_private_hosts": "", "env": "production"})
    event_id = record(new_job(), f"http://user:s3cret@127.0.0.1:{receiver.port}/hook")
    # A rule, not a fault: retrying for hours cannot change it.
    assert deliver_event(event_id, guarded) is DeliveryOutcome.FAILED
    [attempt] = attempt_rows(event_id)
    assert attempt.error is not None and "non-public" in attempt.error and "s3cret" not in attempt.error
    assert receiver.received() == []
    with session_scope() as session:
        event = session.get(WebhookEvent, event_id)
        assert event is not None and event.status == DeliveryStatus.FAILED and event.next_attempt_at is None


def test_a_host_that_does_not_resolve_is_retried(settings: Settings, sent: Sent) -> None:
    event_id = record(new_job(), "http://no-such-host.invalid/hook")
    assert deliver_event(event_id, settings) is DeliveryOutcome.RETRYING


def test_loopback_development_signs_with_its_own_secret_and_reaches_this_machine(
    embedded: Settings, sent: Sent
) -> None:
    """`make run` with no setting at all: the development secret signs, loopback receivers are let in."""
    assert embedded.loopback_development and embedded.webhook_secret is None
    development = server_secret(embedded)
    assert development is not None
    with WebhookReceiver(development) as receiver:
        event_id = record(new_job(), receiver.url())
        assert deliver_event(event_id, embedded) is DeliveryOutcome.DELIVERED
        [received] = receiver.received()
    assert received.verified
    assert (embedded.data_dir / "webhook-secret").stat().st_mode & 0o077 == 0


def test_production_keeps_loopback_receivers_out(embedded: Settings, sent: Sent) -> None:
    production = embedded.model_copy(update={"env": "production", "webhook_secret": SecretStr(SECRET)})
    with WebhookReceiver(SECRET) as receiver:
        event_id = record(new_job(), receiver.url())
        assert deliver_event(event_id, production) is DeliveryOutcome.FAILED
        assert receiver.received() == []


def test_a_leased_event_is_not_delivered_twice(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    event_id = record(new_job(), receiver.url())
    set_event(event_id, lease_until=utcnow() + timedelta(minutes=1))
    assert deliver_event(event_id, settings) is DeliveryOutcome.SKIPPED
    set_event(event_id, lease_until=utcnow() - timedelta(seconds=1))
    assert deliver_event(event_id, settings) is DeliveryOutcome.DELIVERED
    assert len(receiver.received()) == 1


def test_dispatch_sends_only_due_unleased_pending_events(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    job_id = new_job()
    due, expired_lease, later, leased, delivered, failed = (record(job_id, receiver.url()) for _ in range(6))
    now = utcnow()
    set_event(expired_lease, lease_until=now - timedelta(seconds=5))
    set_event(later, next_attempt_at=now + timedelta(minutes=5))
    set_event(leased, lease_until=now + timedelta(minutes=5))
    set_event(delivered, status=DeliveryStatus.DELIVERED)
    set_event(failed, status=DeliveryStatus.FAILED)
    sent.clear()

    dispatched = dispatch_due()

    assert set(dispatched) == {due, expired_lease}
    assert {event_id for event_id, _ in sent} == {due, expired_lease}
    assert dispatch_due() == []  # held for the messages just sent
    reservations = dict(sent)
    # A stray message without the reservation cannot take the event; the dispatched one can.
    assert deliver_event(due, settings) is DeliveryOutcome.SKIPPED
    assert deliver_event(due, settings, reservation=reservations[due]) is DeliveryOutcome.DELIVERED
    assert deliver_event(expired_lease, settings, reservation=reservations[expired_lease]) is (
        DeliveryOutcome.DELIVERED
    )
    assert len(receiver.received()) == 2


def test_resend_rearms_the_latest_event_under_the_same_id(
    settings: Settings, sent: Sent, receiver: WebhookReceiver
) -> None:
    job_id = new_job()
    with session_scope() as session, pytest.raises(Conflict) as raised:
        events.resend_last(session, job_id)
    assert raised.value.code == "no_webhook_event"

    event_id = record(job_id, receiver.url("/status/500"))
    for _ in range(4):
        deliver_event(event_id, settings)
    assert event_row(event_id).status == DeliveryStatus.FAILED
    receiver.script("/status/500", 200)
    sent.clear()

    with session_scope() as session:
        event = events.resend_last(session, job_id)
        assert (event.id, event.status, event.attempts) == (event_id, DeliveryStatus.PENDING, 0)
        assert sent == []  # not before the commit
    assert sent == [(event_id, None)]
    assert deliver_event(event_id, settings) is DeliveryOutcome.DELIVERED
    assert len(attempt_rows(event_id)) == 5
    assert {r.webhook_id for r in receiver.received()} == {f"msg_{event_id.hex}"}


def test_the_webhook_task_module_does_not_load_the_model_stack(embedded: Settings) -> None:
    code = (
        "import sys, worker.webhook_tasks as t; "
        "assert {'webhooks.deliver', 'webhooks.dispatch_due'} <= set(t.app.tasks), sorted(t.app.tasks); "
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_tasks_are_thin_shells(
    settings: Settings, sent: Sent, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker import webhook_tasks

    monkeypatch.setattr(webhook_tasks, "get_settings", lambda: settings)
    receiver.script("/hook", Reply(204))
    event_id = record(new_job(), receiver.url())
    webhook_tasks.dispatch.apply()
    [(_, reservation)] = [call for call in sent if call[1] is not None]
    webhook_tasks.deliver.apply(args=[str(event_id), reservation.isoformat()])
    webhook_tasks.deliver.apply(args=[str(event_id)])  # a duplicate is a no-op
    assert event_row(event_id).status == DeliveryStatus.DELIVERED
    assert len(receiver.received()) == 1
