"""Ownership: a job or batch belongs to the key that submitted it; to any other key it does not exist."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.auth.caller import ANONYMOUS
from shared.db import session_scope
from shared.errors import NotFound
from shared.jobs import intake
from shared.jobs.intake import NewJob
from tests.api.conftest import bearer, new_key, submit
from tests.audio_factory import write_tone


@pytest.fixture
def tone_wav(tmp_path: Path) -> Path:
    return write_tone(tmp_path / "tone.wav", fmt="wav", seconds=1.0)


@pytest.fixture
def alice(secured_client: TestClient) -> dict[str, str]:
    return bearer(new_key("alice"))


@pytest.fixture
def bob(secured_client: TestClient) -> dict[str, str]:
    return bearer(new_key("bob"))


def assert_not_found(response, code: str) -> None:
    assert response.status_code == 404
    assert response.json()["code"] == code


def test_another_keys_job_cannot_be_read_cancelled_or_its_deliveries_touched(
    secured_client: TestClient, alice: dict[str, str], bob: dict[str, str], tone_wav: Path
) -> None:
    job = submit(secured_client, tone_wav, headers=alice).json()
    path = f"/v1/jobs/{job['id']}"

    assert_not_found(secured_client.get(path, headers=bob), "job_not_found")
    assert_not_found(secured_client.delete(path, headers=bob), "job_not_found")
    assert_not_found(secured_client.get(f"{path}/deliveries", headers=bob), "job_not_found")
    assert_not_found(secured_client.post(f"{path}/deliveries", headers=bob), "job_not_found")
    # Exactly what a job that does not exist looks like, so nothing is learnt about other keys' jobs.
    unknown = secured_client.get(f"/v1/jobs/{uuid.uuid4()}", headers=bob).json()
    foreign = secured_client.get(path, headers=bob).json()
    assert {k: v for k, v in foreign.items() if k not in {"detail", "instance"}} == {
        k: v for k, v in unknown.items() if k not in {"detail", "instance"}
    }

    assert secured_client.get(path, headers=alice).json()["status"] == "queued"  # bob's DELETE did nothing
    assert secured_client.get(f"{path}/deliveries", headers=alice).json() == {"events": [], "attempts": []}
    assert secured_client.delete(path, headers=alice).json()["status"] == "cancelled"


def test_lists_show_only_the_callers_jobs(
    secured_client: TestClient, alice: dict[str, str], bob: dict[str, str], tone_wav: Path
) -> None:
    alices = {submit(secured_client, tone_wav, headers=alice).json()["id"] for _ in range(3)}
    bobs = {submit(secured_client, tone_wav, headers=bob).json()["id"]}
    secured_client.post("/v1/batches", json={"audio_urls": ["https://example.org/a.wav"]}, headers=bob)

    listed = secured_client.get("/v1/jobs", params={"limit": 2}, headers=alice).json()
    second = secured_client.get(
        "/v1/jobs", params={"limit": 2, "cursor": listed["next_cursor"]}, headers=alice
    ).json()
    assert {j["id"] for j in listed["items"] + second["items"]} == alices
    assert second["next_cursor"] is None
    bob_ids = {j["id"] for j in secured_client.get("/v1/jobs", headers=bob).json()["items"]}
    assert bobs < bob_ids and len(bob_ids) == 2 and not bob_ids & alices


def test_another_keys_batch_cannot_be_read_cancelled_or_its_results_fetched(
    secured_client: TestClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    urls = ["https://example.org/a.wav", "https://example.org/b.wav"]
    batch = secured_client.post("/v1/batches", json={"audio_urls": urls}, headers=alice).json()
    path = f"/v1/batches/{batch['id']}"

    assert_not_found(secured_client.get(path, headers=bob), "batch_not_found")
    assert_not_found(secured_client.delete(path, headers=bob), "batch_not_found")
    assert_not_found(secured_client.get(f"{path}/results", headers=bob), "batch_not_found")
    for job_id in batch["job_ids"]:
        assert_not_found(secured_client.get(f"/v1/jobs/{job_id}", headers=bob), "job_not_found")

    mine = secured_client.get(path, headers=alice).json()
    assert mine["counts"]["queued"] == 2 and mine["status"] == "running"
    assert secured_client.get(f"{path}/results", headers=alice).status_code == 200
    assert secured_client.delete(path, headers=alice).json()["counts"]["cancelled"] == 2


def test_the_same_idempotency_key_under_two_keys_gives_two_jobs(
    secured_client: TestClient, alice: dict[str, str], bob: dict[str, str], tone_wav: Path, tmp_path: Path
) -> None:
    other = write_tone(tmp_path / "other.wav", fmt="wav", seconds=1.0, freq=220.0)
    first = submit(secured_client, tone_wav, headers={**alice, "Idempotency-Key": "order-1"})
    # Bob's audio differs: under a shared scope this would be a 409, and would tell bob alice used the key.
    theirs = submit(secured_client, other, headers={**bob, "Idempotency-Key": "order-1"})
    again = submit(secured_client, tone_wav, headers={**alice, "Idempotency-Key": "order-1"})

    assert first.status_code == theirs.status_code == again.status_code == 202
    assert theirs.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in theirs.headers
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"


def test_jobs_made_with_auth_disabled_belong_to_no_key_and_the_other_way_round(
    secured_client: TestClient, alice: dict[str, str]
) -> None:
    alices = secured_client.post("/v1/jobs", json={"audio_url": "https://x.org/b"}, headers=alice).json()
    with session_scope() as session:
        job, _ = intake.create_job(session, ANONYMOUS, NewJob(id=uuid.uuid4(), audio_url="https://x.org/a"))
        with pytest.raises(NotFound):
            intake.get_job(session, ANONYMOUS, uuid.UUID(alices["id"]))

    assert_not_found(secured_client.get(f"/v1/jobs/{job.id}", headers=alice), "job_not_found")
    assert [j["id"] for j in secured_client.get("/v1/jobs", headers=alice).json()["items"]] == [alices["id"]]
