"""API keys, webhook secrets and database URLs never appear in logs, error answers or API answers."""

from __future__ import annotations

import base64
import logging
import secrets
import uuid

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from shared.auth import service as keys
from shared.config import Settings
from shared.db import reset_engine, session_scope
from shared.webhooks.delivery import deliver_event
from tests.api.conftest import bearer, new_key
from tests.webhook_receiver import WebhookReceiver

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"emoq-secrets-test-webhook-secret").decode()


def everything_logged(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> str:
    """What went through logging, and whatever reached stdout and stderr by any other way."""
    out, err = capfd.readouterr()
    return caplog.text + out + err


def test_presented_keys_are_never_logged_or_echoed(
    secured_client: TestClient, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    good = new_key("alice")
    wrong = "emoq_" + secrets.token_urlsafe(32)

    responses = [
        secured_client.get("/v1/jobs", headers=bearer(wrong)),
        secured_client.get("/v1/jobs", headers={"Authorization": f"Basic {wrong}"}),
        secured_client.get("/v1/jobs", headers=bearer(wrong + "x" * 200)),  # too long to be a key
        secured_client.get("/v1/jobs", headers=bearer(good)),
        secured_client.get("/v1/jobs/not-a-uuid", headers=bearer(good)),
        secured_client.post("/v1/jobs", json={"audio_url": "ftp://x"}, headers=bearer(good)),
        secured_client.post("/v1/jobs", content=b"\x00", headers=bearer(good)),
    ]

    assert [r.status_code for r in responses[:4]] == [401, 401, 401, 200]
    assert all(r.status_code >= 400 for r in responses[4:])
    answers = "".join(r.text + str(r.headers) for r in responses)
    logged = everything_logged(caplog, capfd)
    assert '401 Unauthorized"' in logged  # the requests were logged: the capture works
    for key in (good, wrong):
        assert key not in answers
        assert key not in logged
        assert key.removeprefix("emoq_") not in answers + logged


def test_an_unreachable_database_is_reported_without_its_url(
    secured: Settings,
    secured_client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    key = new_key("alice")
    password = "pw-" + secrets.token_hex(8)
    monkeypatch.setattr(secured, "database_url", f"postgresql+psycopg://emoq:{password}@127.0.0.1:1/emoq")
    reset_engine()

    ready = secured_client.get("/readyz")
    jobs = secured_client.get("/v1/jobs", headers=bearer(key))

    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unavailable")
    assert jobs.status_code == 503 and jobs.json()["code"] == "database_unavailable"
    answers = ready.text + jobs.text + str(ready.headers) + str(jobs.headers)
    logged = everything_logged(caplog, capfd)
    assert "database unavailable: OperationalError" in logged
    for secret in (password, "postgresql+psycopg", "127.0.0.1:1", key):
        assert secret not in answers
        assert secret not in logged


def test_settings_print_without_their_secrets() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://emoq:db-password@db:5432/emoq",
        broker_url="redis://:broker-password@redis:6379/0",
        webhook_secret=WEBHOOK_SECRET,
    )

    for text in (repr(settings), str(settings)):
        assert "db-password" not in text and "broker-password" not in text
        assert WEBHOOK_SECRET not in text and WEBHOOK_SECRET.removeprefix("whsec_") not in text


def test_the_webhook_secret_is_never_logged_or_answered(
    secured: Settings,
    secured_client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(secured, "webhook_secret", SecretStr(WEBHOOK_SECRET))
    monkeypatch.setattr(secured, "allowed_private_hosts", "127.0.0.1")
    with session_scope() as session:
        created = keys.create_key(session, "alice")
    alice = bearer(created.key)

    # Alice's deliveries are signed with her own secret: the server-wide one signs only keyless jobs.
    with WebhookReceiver(created.webhook_secret) as receiver:
        receiver.script("/hook", 500)
        job = secured_client.post(
            "/v1/jobs",
            json={"audio_url": "https://example.org/a.wav", "webhook_url": receiver.url("/hook")},
            headers=alice,
        ).json()
        answers = [secured_client.delete(f"/v1/jobs/{job['id']}", headers=alice)]
        [event] = secured_client.get(f"/v1/jobs/{job['id']}/deliveries", headers=alice).json()["events"]
        deliver_event(uuid.UUID(event["id"]), secured)
        answers += [
            secured_client.get(f"/v1/jobs/{job['id']}/deliveries", headers=alice),
            secured_client.post(f"/v1/jobs/{job['id']}/deliveries", headers=alice),
        ]
        [received] = receiver.received()

    assert received.verified  # it was signed with the secret, which went nowhere else
    assert [r.status_code for r in answers] == [200, 200, 202]
    logged = everything_logged(caplog, capfd)
    assert "webhook attempt" in logged
    for text in [*(r.text + str(r.headers) for r in answers), logged]:
        for secret in (WEBHOOK_SECRET, created.webhook_secret):
            assert secret not in text and secret.removeprefix("whsec_") not in text
