"""Per-key limits: jobs created per rolling minute and jobs queued or processing, both answered with 429."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from shared.config import Settings
from shared.db import session_scope
from shared.models import Job
from shared.models.base import utcnow
from tests.api.conftest import bearer, new_key

URL = {"audio_url": "https://example.org/talk.wav"}


def batch_of(n: int) -> dict[str, list[str]]:
    return {"audio_urls": [f"https://example.org/{i}.wav" for i in range(n)]}


def assert_too_many(response, code: str, *, at_most: int) -> int:
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= at_most
    return retry_after


def age_jobs(seconds: float) -> None:
    with session_scope() as session:
        session.execute(update(Job).values(created_at=utcnow() - timedelta(seconds=seconds)))


def test_the_rate_limit_counts_every_job_of_a_key_in_the_last_minute(
    secured: Settings, secured_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secured, "rate_limit_per_minute", 3)
    alice, bob = bearer(new_key("alice")), bearer(new_key("bob"))

    first = secured_client.post("/v1/jobs", json=URL, headers={**alice, "Idempotency-Key": "one"})
    assert secured_client.post("/v1/batches", json=batch_of(2), headers=alice).status_code == 202

    assert_too_many(secured_client.post("/v1/jobs", json=URL, headers=alice), "rate_limited", at_most=60)
    assert_too_many(
        secured_client.post("/v1/batches", json=batch_of(1), headers=alice), "rate_limited", at_most=60
    )
    # A replay creates nothing, so it is not refused; another key has its own budget.
    replay = secured_client.post("/v1/jobs", json=URL, headers={**alice, "Idempotency-Key": "one"})
    assert replay.status_code == 202 and replay.json()["id"] == first.json()["id"]
    assert secured_client.post("/v1/jobs", json=URL, headers=bob).status_code == 202

    age_jobs(58)  # still inside the window: about two seconds to wait
    assert_too_many(secured_client.post("/v1/jobs", json=URL, headers=alice), "rate_limited", at_most=3)
    age_jobs(61)
    assert secured_client.post("/v1/jobs", json=URL, headers=alice).status_code == 202


def test_a_key_at_its_limit_is_refused_before_its_upload_is_read(
    secured: Settings, secured_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secured, "rate_limit_per_minute", 1)
    alice = bearer(new_key("alice"))
    assert secured_client.post("/v1/jobs", json=URL, headers=alice).status_code == 202
    not_audio = {"file": ("notes.wav", b"not audio at all" * 1000)}

    # Read and probed, this would be a 415; refused first, it never is.
    single = secured_client.post("/v1/jobs", files=not_audio, headers=alice)
    batch = secured_client.post("/v1/batches", files={"files": not_audio["file"]}, headers=alice)

    for response in (single, batch):
        assert_too_many(response, "rate_limited", at_most=60)


def test_a_batch_larger_than_the_rate_limit_gets_in_only_on_its_own(
    secured: Settings, secured_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secured, "rate_limit_per_minute", 3)
    alice = bearer(new_key("alice"))

    assert secured_client.post("/v1/batches", json=batch_of(5), headers=alice).status_code == 202
    assert_too_many(secured_client.post("/v1/jobs", json=URL, headers=alice), "rate_limited", at_most=60)
    age_jobs(30)  # the whole window has to drain before anything else gets in
    waited = assert_too_many(
        secured_client.post("/v1/jobs", json=URL, headers=alice), "rate_limited", at_most=30
    )
    assert waited >= 29
    age_jobs(61)
    assert secured_client.post("/v1/batches", json=batch_of(5), headers=alice).status_code == 202


def test_the_quota_of_active_jobs(
    secured: Settings, secured_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secured, "max_active_jobs_per_key", 2)
    alice, bob = bearer(new_key("alice")), bearer(new_key("bob"))
    first = secured_client.post("/v1/jobs", json=URL, headers=alice).json()
    assert secured_client.post("/v1/jobs", json=URL, headers=alice).status_code == 202

    assert_too_many(
        secured_client.post("/v1/jobs", json=URL, headers=alice), "too_many_active_jobs", at_most=60
    )
    assert_too_many(
        secured_client.post("/v1/batches", json=batch_of(1), headers=alice),
        "too_many_active_jobs",
        at_most=60,
    )
    assert secured_client.post("/v1/jobs", json=URL, headers=bob).status_code == 202

    secured_client.delete(f"/v1/jobs/{first['id']}", headers=alice)  # a finished job no longer counts
    assert secured_client.post("/v1/jobs", json=URL, headers=alice).status_code == 202


def test_no_limits_apply_with_auth_disabled(
    embedded: Settings, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "rate_limit_per_minute", 1)
    monkeypatch.setattr(embedded, "max_active_jobs_per_key", 1)

    assert [client.post("/v1/jobs", json=URL).status_code for _ in range(3)] == [202, 202, 202]
    assert client.post("/v1/batches", json=batch_of(3)).status_code == 202
