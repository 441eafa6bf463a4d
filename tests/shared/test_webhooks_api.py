"""The deliveries API: a job's delivery log, and re-sending its latest event."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from api.routes import deliveries
from shared.config import Settings
from shared.db import session_scope
from shared.models import EventType, Job, JobStatus
from shared.webhooks import events, queue
from shared.webhooks.delivery import deliver_event
from tests.webhook_receiver import WebhookReceiver

SECRET = "whsec_" + base64.b64encode(b"emoq-webhook-api-secret-32bytes!").decode()
PATH = "/v1/jobs/{job_id}/deliveries"


@pytest.fixture
def client(embedded: Settings) -> Iterator[TestClient]:
    app = create_app()
    if not any(getattr(route, "path", None) == PATH for route in app.routes):
        app.include_router(deliveries.router)  # until api.main includes it
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def settings(embedded: Settings) -> Settings:
    return embedded.model_copy(
        update={
            "webhook_secret": SecretStr(SECRET),
            "webhook_retry_schedule": "0,0,0",
            "allowed_private_hosts": "127.0.0.1",
        }
    )


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[uuid.UUID]:
    calls: list[uuid.UUID] = []
    monkeypatch.setattr(queue, "send_delivery", lambda event_id, reservation=None: calls.append(event_id))
    return calls


def new_job() -> uuid.UUID:
    with session_scope() as session:
        job = Job(id=uuid.uuid4(), status=JobStatus.SUCCEEDED)
        session.add(job)
    return job.id


def test_unknown_jobs_are_404_problems(client: TestClient) -> None:
    for method in ("GET", "POST"):
        response = client.request(method, PATH.format(job_id=uuid.uuid4()))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "job_not_found"


def test_a_job_without_events_has_an_empty_log_and_nothing_to_resend(client: TestClient) -> None:
    job_id = new_job()
    assert client.get(PATH.format(job_id=job_id)).json() == {"events": [], "attempts": []}
    response = client.post(PATH.format(job_id=job_id))
    assert response.status_code == 409
    assert response.json()["code"] == "no_webhook_event"


def test_the_log_lists_every_attempt_newest_first_and_post_resends(
    client: TestClient, settings: Settings, sent: list[uuid.UUID]
) -> None:
    job_id = new_job()
    with WebhookReceiver(SECRET) as receiver:
        receiver.script("/hook", 500, 200, 200)
        with session_scope() as session:
            event_id = events.record_event(
                session,
                type=EventType.JOB_SUCCEEDED,
                url=receiver.url(),
                data={"id": str(job_id)},
                owner_key_id=None,
                job_id=job_id,
            ).id
        deliver_event(event_id, settings)
        deliver_event(event_id, settings)

        log = client.get(PATH.format(job_id=job_id)).json()
        [event] = log["events"]
        assert event["id"] == str(event_id) and event["webhook_id"] == f"msg_{event_id.hex}"
        assert (event["status"], event["attempts"], event["type"]) == ("delivered", 2, "job.succeeded")
        newest, oldest = log["attempts"]
        assert (newest["status_code"], newest["succeeded"]) == (200, True)
        assert (oldest["status_code"], oldest["succeeded"]) == (500, False)
        assert datetime.fromisoformat(newest["attempted_at"]) >= datetime.fromisoformat(
            oldest["attempted_at"]
        )
        assert newest["event_status"] == "delivered" and newest["url"] == receiver.url()
        assert newest["webhook_id"] == f"msg_{event_id.hex}" and newest["latency_ms"] > 0
        assert set(newest) >= {"event_id", "type", "error"}

        sent.clear()
        response = client.post(PATH.format(job_id=job_id))
        assert response.status_code == 202
        assert response.json()["id"] == str(event_id)
        assert response.json()["status"] == "pending"
        assert sent == [event_id]
        deliver_event(event_id, settings)

        assert len(client.get(PATH.format(job_id=job_id)).json()["attempts"]) == 3
        assert {r.webhook_id for r in receiver.received()} == {f"msg_{event_id.hex}"}
        assert all(r.verified for r in receiver.received())
