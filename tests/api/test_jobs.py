from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event

from shared.broker import get_celery
from shared.config import Settings
from shared.db import get_engine
from tests.api.conftest import announce_served_model, queued_messages, stored_blobs, submit
from tests.audio_factory import write_tone
from tests.bad_audio import BAD_UPLOADS, MAX_AUDIO_SECONDS_FOR_BAD_UPLOADS, BadUpload


@pytest.fixture
def tone_wav(tmp_path: Path) -> Path:
    return write_tone(tmp_path / "tone.wav", fmt="wav", seconds=2.0, sample_rate=22050, channels=2)


def test_submit_accepts_stores_and_queues_after_commit(
    client: TestClient, embedded: Settings, tone_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the database and the broker saw, in order. The job's row must be committed before its task
    # is sent, or a worker quick to take it would not find the job. (Not visible in SQLite's file alone:
    # pysqlite commits when the outermost savepoint is released, so the row is there either way.)
    seen: list[str] = []
    celery = get_celery()
    send_task = celery.send_task

    def send_and_note(name: str, args: list[str], **options: Any) -> Any:
        seen.append(f"send {name}")
        return send_task(name, args, **options)

    def commit(_: Connection) -> None:
        seen.append("commit")

    monkeypatch.setattr(celery, "send_task", send_and_note)
    event.listen(get_engine(), "commit", commit)
    try:
        response = submit(client, tone_wav, metadata='{"call": 42}')
    finally:
        event.remove(get_engine(), "commit", commit)

    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] == "queued"
    assert job["metadata"] == {"call": 42}
    facts = job["input"]
    assert facts["filename"] == "tone.wav"
    assert facts["bytes"] == tone_wav.stat().st_size
    assert facts["sample_rate"] == 22050 and facts["channels"] == 2
    assert facts["duration_s"] == pytest.approx(2.0, abs=0.01)
    assert len(facts["sha256"]) == 64
    [blob] = stored_blobs(embedded)
    assert blob.name == uuid.UUID(job["id"]).hex
    [message] = queued_messages(embedded)
    assert job["id"] in message.read_text()
    assert seen[-2:] == ["commit", "send jobs.analyze"], seen
    assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "queued"


def test_filename_is_never_a_path(client: TestClient, embedded: Settings, tone_wav: Path) -> None:
    with tone_wav.open("rb") as audio:
        response = client.post("/v1/jobs", files={"file": ("..\\..\\../etc/evil.wav", audio)})

    assert response.status_code == 202
    assert response.json()["input"]["filename"] == "evil.wav"
    [blob] = stored_blobs(embedded)
    assert blob.parent.parent == embedded.local_storage_dir


def test_idempotency_key_returns_the_same_job(client: TestClient, embedded: Settings, tone_wav: Path) -> None:
    first = submit(client, tone_wav, headers={"Idempotency-Key": "upload-7"})
    again = submit(client, tone_wav, headers={"Idempotency-Key": "upload-7"})

    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(stored_blobs(embedded)) == 1
    assert len(queued_messages(embedded)) == 1


def test_idempotency_key_reused_for_other_audio_is_refused(
    client: TestClient, embedded: Settings, tone_wav: Path, tmp_path: Path
) -> None:
    other = write_tone(tmp_path / "other.wav", fmt="wav", seconds=1.0, freq=220.0)
    submit(client, tone_wav, headers={"Idempotency-Key": "k"})

    response = submit(client, other, headers={"Idempotency-Key": "k"})

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert len(stored_blobs(embedded)) == 1


@pytest.mark.parametrize("bad", BAD_UPLOADS, ids=lambda b: b.name)
def test_bad_upload_is_refused_with_a_problem_and_leaves_nothing(
    bad: BadUpload, client: TestClient, embedded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "max_audio_seconds", MAX_AUDIO_SECONDS_FOR_BAD_UPLOADS)

    response = submit(client, bad.write(tmp_path))

    assert response.status_code == bad.status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == bad.code
    assert problem["status"] == bad.status
    assert problem["instance"] == "/v1/jobs"
    assert "Traceback" not in response.text
    assert stored_blobs(embedded) == []
    assert queued_messages(embedded) == []
    assert client.get("/v1/jobs").json()["items"] == []


def test_upload_over_the_size_limit_is_refused_while_streaming(
    client: TestClient, embedded: Settings, tone_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "max_upload_bytes", 10_000)

    response = submit(client, tone_wav)

    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large"
    assert stored_blobs(embedded) == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"metadata": "[1, 2]"}, "invalid_metadata"),
        ({"metadata": "{not json"}, "invalid_metadata"),
        ({"metadata": json.dumps({"x": "y" * 5000})}, "metadata_too_large"),
        ({"webhook_url": "ftp://example.com/hook"}, "invalid_webhook_url"),
        # Not URLs, though a split at the slashes finds a scheme and a host in each.
        ({"webhook_url": "http://exa mple.com/hook"}, "invalid_webhook_url"),
        ({"webhook_url": "https://example.com:99999/hook"}, "invalid_webhook_url"),
        ({"webhook_url": "http://[::1/hook"}, "invalid_webhook_url"),
        ({"webhook_url": "https://example.com/" + "a" * 2048}, "invalid_webhook_url"),
    ],
)
def test_invalid_fields_are_refused(
    fields: dict[str, str], code: str, client: TestClient, embedded: Settings, tone_wav: Path
) -> None:
    response = submit(client, tone_wav, **fields)

    assert response.status_code in (413, 422)
    assert response.json()["code"] == code
    assert stored_blobs(embedded) == []


def test_missing_file_and_wrong_content_type(client: TestClient) -> None:
    no_file = client.post("/v1/jobs", files={"other": ("x.txt", b"abc")}, data={"metadata": "{}"})
    not_multipart = client.post("/v1/jobs", content=b"abc", headers={"content-type": "text/plain"})
    json_without_url = client.post("/v1/jobs", json={"file": "abc"})

    assert no_file.status_code == 422 and no_file.json()["code"] == "unexpected_file"
    assert not_multipart.status_code == 422 and not_multipart.json()["code"] == "unsupported_content_type"
    assert json_without_url.status_code == 422 and json_without_url.json()["code"] == "invalid_body"
    fields_only = client.post("/v1/jobs", data={"metadata": "{}"}, files={"x": (None, "y")})
    assert fields_only.json()["code"] == "missing_file"


def test_cancel_queued_job_deletes_audio_and_keeps_the_record(
    client: TestClient, embedded: Settings, tone_wav: Path
) -> None:
    job_id = submit(client, tone_wav).json()["id"]

    cancelled = client.delete(f"/v1/jobs/{job_id}")

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["finished_at"] is not None
    assert stored_blobs(embedded) == []
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "cancelled"
    # Deleting a finished job removes it, and its result, at once.
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 404


def test_unknown_job_is_a_404_problem(client: TestClient) -> None:
    response = client.get(f"/v1/jobs/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "job_not_found"
    assert client.get("/v1/jobs/not-a-uuid").json()["code"] == "validation_error"


def test_list_filters_and_paginates_newest_first(client: TestClient, tone_wav: Path) -> None:
    ids = [submit(client, tone_wav).json()["id"] for _ in range(5)]
    client.delete(f"/v1/jobs/{ids[0]}")

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/jobs", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(ids))
    cancelled = client.get("/v1/jobs", params={"status": "cancelled"}).json()["items"]
    assert [item["id"] for item in cancelled] == [ids[0]]
    assert client.get("/v1/jobs", params={"created_after": "2999-01-01T00:00:00"}).json()["items"] == []
    assert client.get("/v1/jobs", params={"cursor": "garbage!"}).json()["code"] == "invalid_cursor"


def test_health_readiness_models_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    waiting = client.get("/readyz")
    [unserved] = client.get("/v1/models").json()["models"]
    announce_served_model(["angry", "happy"])
    ready = client.get("/readyz")

    assert waiting.status_code == 503
    assert waiting.json()["checks"] == {
        "database": "ok",
        "broker": "ok",
        "model": "unavailable (NoModelServed)",
    }
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "model": "ok"}
    assert (unserved["name"], unserved["default"], unserved["served"], unserved["labels"]) == (
        "default",
        True,
        False,
        [],
    )
    [served] = client.get("/v1/models").json()["models"]
    assert (served["served"], served["labels"]) == (True, ["angry", "happy"])
    spec = client.get("/openapi.json").json()
    assert "multipart/form-data" in spec["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]
    assert client.get("/docs").status_code == 200


def test_an_accepted_job_is_logged_with_its_id(
    client: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="shared.jobs.intake")

    job_id = submit(client, write_tone(tmp_path / "a.wav", fmt="wav")).json()["id"]

    (accepted,) = [r for r in caplog.records if r.getMessage() == "job accepted"]
    assert accepted.__dict__["job_id"] == job_id


def test_an_id_that_is_not_a_uuid_is_said_to_be_one(client: TestClient) -> None:
    response = client.get("/v1/jobs/nope")

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "job_id: must be a UUID" in response.json()["detail"]
