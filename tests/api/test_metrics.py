"""The API's /metrics: request figures by route template, job counters, and the state read at scrape."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from shared.broker import get_celery
from shared.config import Settings
from tests.api.conftest import queued_messages
from tests.audio_factory import write_tone
from tests.bad_audio import BAD_UPLOADS
from tests.metrics_text import sample, samples

TOKEN = "metrics-test-token"


@pytest.fixture(autouse=True)
def metrics_token(embedded: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Served on the API's port only with a token; set before the app is made."""
    monkeypatch.setattr(embedded, "metrics_token", SecretStr(TOKEN))


def scrape(client: TestClient) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


def test_state_of_jobs_and_queues(client: TestClient, embedded: Settings, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "a.wav", fmt="wav", seconds=0.5)
    for _ in range(3):
        assert client.post("/v1/jobs", files={"file": clip.open("rb")}).status_code == 202

    text = scrape(client)

    assert sample(text, "emoq_jobs", status="queued") == 3
    assert sample(text, "emoq_jobs", status="succeeded") == 0
    assert sample(text, "emoq_queue_depth", queue="inference") == len(queued_messages(embedded)) == 3
    assert {labels["queue"] for labels in samples(text, "emoq_queue_depth")} == {
        "inference",
        "bulk",
        "webhooks",
        "maintenance",
        "training",
    }
    assert sample(text, "emoq_oldest_queued_job_age_seconds") > 0
    assert {labels["status"] for labels in samples(text, "emoq_trainings")} == {
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
    }
    assert sample(text, "emoq_state_source_up", source="database") == 1
    assert sample(text, "emoq_state_source_up", source="broker") == 1


def test_requests_are_counted_by_route_template_never_by_id(client: TestClient, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "a.wav", fmt="wav", seconds=0.5)
    job_id = client.post("/v1/jobs", files={"file": clip.open("rb")}).json()["id"]
    labels = {"method": "GET", "route": "/v1/jobs/{job_id}", "status": "200"}
    before = sample(scrape(client), "emoq_http_requests_total", **labels)

    for _ in range(4):
        client.get(f"/v1/jobs/{job_id}")
    client.get("/v1/no-such-thing")
    text = scrape(client)

    assert sample(text, "emoq_http_requests_total", **labels) == before + 4
    assert sample(text, "emoq_http_requests_total", method="GET", route="unmatched", status="404") >= 1
    client.get("/static/app.css")
    static = {"method": "GET", "route": "/static/{path}", "status": "200"}
    assert sample(scrape(client), "emoq_http_requests_total", **static) >= 1
    assert job_id not in text
    duration = {"method": "POST", "route": "/v1/jobs"}
    assert sample(text, "emoq_http_request_duration_seconds_count", **duration) >= 1


def test_accepted_and_intake_failures_are_counted(client: TestClient, tmp_path: Path) -> None:
    bad = BAD_UPLOADS[0]
    good = write_tone(tmp_path / "good.wav", fmt="wav", seconds=0.5)
    accepted = ("emoq_jobs_accepted_total", {"kind": "batch"})
    failed = ("emoq_jobs_finished_total", {"status": "failed", "error_code": bad.code})
    before = scrape(client)

    files = [("files", (p.name, p.read_bytes())) for p in (good, bad.write(tmp_path))]
    assert client.post("/v1/batches", files=files).status_code == 202
    after = scrape(client)

    def grew(name: str, labels: dict[str, str]) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew(*accepted) == 2
    assert grew(*failed) == 1


def test_cancelled_job_is_counted_with_its_latency(client: TestClient, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "a.wav", fmt="wav", seconds=0.5)
    before = scrape(client)

    job_id = client.post("/v1/jobs", files={"file": clip.open("rb")}).json()["id"]
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 200
    after = scrape(client)

    finished = {"status": "cancelled", "error_code": ""}
    assert (
        sample(after, "emoq_jobs_finished_total", **finished)
        - sample(before, "emoq_jobs_finished_total", **finished)
        == 1
    )
    latency = "emoq_job_latency_seconds_count"
    assert sample(after, latency, status="cancelled") - sample(before, latency, status="cancelled") == 1


def test_metrics_answer_when_the_broker_is_down(
    client: TestClient, embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "broker_url", "redis://127.0.0.1:1/0")
    get_celery.cache_clear()

    text = scrape(client)

    assert sample(text, "emoq_state_source_up", source="broker") == 0
    assert sample(text, "emoq_state_source_up", source="database") == 1
    assert samples(text, "emoq_queue_depth") == []
    get_celery.cache_clear()


def test_metrics_are_not_an_api_operation(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_the_api_port_serves_metrics_only_to_the_token(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
        assert "emoq_" not in refused.text


def test_without_a_token_the_api_port_serves_no_metrics(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "metrics_token", None)
    with TestClient(create_app()) as bare:
        answer = bare.get("/metrics")
    assert answer.status_code == 404 and "emoq_" not in answer.text
