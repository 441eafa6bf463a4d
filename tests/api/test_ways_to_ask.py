"""Prefer: wait, POST /predict and CORS, with no worker: what a request does when nothing finishes its job.
Finished jobs through a real worker: tests/integration/test_pipeline.py."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.main import create_app
from api.waiting import requested_wait
from shared.config import Settings
from shared.jobs import repository
from tests.api.conftest import queued_messages, submit
from tests.audio_factory import write_tone


@pytest.fixture
def tone_wav(tmp_path: Path) -> Path:
    return write_tone(tmp_path / "tone.wav", fmt="wav", seconds=0.5)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], None),
        (["wait=5"], 5),
        (["respond-async, wait=7"], 7),
        (['return=minimal; foo="x", WAIT="3"'], 3),
        (["wait=999"], 30),
        (["wait=soon", "wait=2"], 2),
        (["wait=-1"], None),
    ],
)
def test_the_wait_asked_for_is_read_as_rfc_7240_says(headers: list[str], expected: int | None) -> None:
    assert requested_wait(headers, cap=30) == expected


def test_prefer_wait_gives_up_with_the_usual_202_at_the_cap(
    client: TestClient, embedded: Settings, tone_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "max_wait_seconds", 1)

    started = time.monotonic()
    answer = submit(client, tone_wav, headers={"Prefer": "wait=30"})
    waited = time.monotonic() - started

    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    assert "Preference-Applied" not in answer.headers
    assert 1.0 <= waited < 5.0, "capped by EMOQ_MAX_WAIT_SECONDS"
    assert len(queued_messages(embedded)) == 1, "the job was committed and sent before the wait"


def test_get_with_prefer_wait_answers_as_soon_as_the_job_ends(
    client: TestClient, embedded: Settings, tone_wav: Path
) -> None:
    job_id = submit(client, tone_wav).json()["id"]

    def cancel_soon() -> None:
        time.sleep(0.5)
        client.delete(f"/v1/jobs/{job_id}")  # ends it as a worker would: a final status, committed

    canceller = threading.Thread(target=cancel_soon)
    started = time.monotonic()
    canceller.start()
    answer = client.get(f"/v1/jobs/{job_id}", headers={"Prefer": "wait=20"})
    waited = time.monotonic() - started
    canceller.join()

    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert answer.headers["Preference-Applied"] == "wait=20"
    assert 0.5 <= waited < 2.0, "answered once the job ended, not at the end of the wait"


def test_get_with_prefer_wait_gives_up_at_the_cap_with_the_job_as_it_stands(
    client: TestClient, embedded: Settings, tone_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "max_wait_seconds", 1)
    job_id = submit(client, tone_wav).json()["id"]

    started = time.monotonic()
    answer = client.get(f"/v1/jobs/{job_id}", headers={"Prefer": "wait=30"}, params={"segments": "false"})
    waited = time.monotonic() - started

    assert answer.status_code == 200 and answer.json()["status"] == "queued"
    assert "Preference-Applied" not in answer.headers
    assert 1.0 <= waited < 5.0, "capped by EMOQ_MAX_WAIT_SECONDS"


@pytest.mark.anyio
async def test_a_waiting_request_leaves_the_event_loop_free(embedded: Settings, tone_wav: Path) -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        waiting = asyncio.create_task(
            client.post(
                "/v1/jobs",
                files={"file": (tone_wav.name, tone_wav.read_bytes())},
                headers={"Prefer": "wait=2"},
            )
        )
        await asyncio.sleep(0.3)
        started = time.monotonic()
        health = await client.get("/healthz")
        answered_in = time.monotonic() - started
        assert not waiting.done()
        assert (await waiting).status_code == 202

    assert health.status_code == 200 and answered_in < 1.0


@pytest.mark.anyio
async def test_requests_waiting_on_different_jobs_share_one_poll_and_each_wakes_with_its_own_job(
    embedded: Settings, tone_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[set[object]] = []

    def statuses_of(session: object, job_ids: list[object]) -> dict:
        asked.append(set(job_ids))
        return real_statuses_of(session, job_ids)

    real_statuses_of = repository.statuses_of
    monkeypatch.setattr(repository, "statuses_of", statuses_of)
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ids = []
        for _ in range(3):
            answer = await client.post("/v1/jobs", files={"file": (tone_wav.name, tone_wav.read_bytes())})
            ids.append(answer.json()["id"])

        async def wait(job_id: str) -> tuple[str, float]:
            answer = await client.get(f"/v1/jobs/{job_id}", headers={"Prefer": "wait=2"})
            return answer.json()["status"], time.monotonic() - started

        started = time.monotonic()
        waits = [asyncio.create_task(wait(job_id)) for job_id in ids]
        ended_at = {}
        for job_id in (ids[1], ids[0]):
            await asyncio.sleep(0.3)
            await client.delete(f"/v1/jobs/{job_id}")
            ended_at[job_id] = time.monotonic() - started
        (first, first_at), (second, second_at), (third, third_at) = await asyncio.gather(*waits)

    assert (second, first, third) == ("cancelled", "cancelled", "queued")
    assert second_at < first_at, "each woken by its own job's end"
    late = (second_at - ended_at[ids[1]], first_at - ended_at[ids[0]])
    assert max(late) < 0.3, f"answered {late} s after the jobs ended: a poll is every 20 ms"
    assert third_at >= 2.0
    assert max(len(ids) for ids in asked) == 3, f"one query asks for every job waited on: {asked}"
    assert len(asked) <= 2.0 / 0.02 + 5, f"one poll for all the waiting requests, not one each: {len(asked)}"


@pytest.mark.anyio
async def test_a_waiting_request_fails_at_once_when_the_database_goes_away(
    embedded: Settings, tone_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_: object) -> dict:
        raise OperationalError("SELECT", {}, Exception("database is away"))

    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        job_id = (
            await client.post("/v1/jobs", files={"file": (tone_wav.name, tone_wav.read_bytes())})
        ).json()["id"]
        monkeypatch.setattr(repository, "statuses_of", unreachable)
        started = time.monotonic()
        answer = await client.get(f"/v1/jobs/{job_id}", headers={"Prefer": "wait=10"})

    assert answer.status_code == 503 and answer.headers["content-type"] == "application/problem+json"
    assert time.monotonic() - started < 5.0, "the poll's failure reached the request, not its deadline"


def test_predict_answers_504_with_where_to_poll_when_the_job_is_not_done(
    client: TestClient, embedded: Settings, tone_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "max_wait_seconds", 0)

    with tone_wav.open("rb") as audio:
        answer = client.post("/predict", files={"file": (tone_wav.name, audio)})

    assert answer.status_code == 504
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "job_unfinished"
    assert answer.headers["Location"] == f"/v1/jobs/{problem['job_id']}"
    assert client.get(answer.headers["Location"]).json()["status"] == "queued", "the job goes on"


def test_predict_takes_only_an_uploaded_file(client: TestClient) -> None:
    by_url = client.post("/predict", files={"audio_url": (None, "https://example.org/a.wav")})
    as_json = client.post("/predict", json={"audio_url": "https://example.org/a.wav"})

    assert by_url.status_code == 422 and by_url.json()["code"] == "missing_file"
    assert as_json.status_code >= 400 and as_json.headers["content-type"] == "application/problem+json"


def test_cors_is_off_unless_origins_are_configured(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    preflight = {
        "Origin": "https://app.example.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, prefer",
    }
    with TestClient(create_app()) as closed:
        assert "access-control-allow-origin" not in closed.options("/v1/jobs", headers=preflight).headers
        assert "access-control-allow-origin" not in closed.get("/healthz", headers=preflight).headers

    monkeypatch.setattr(embedded, "cors_origins", "https://app.example.org, https://other.example.org")
    with TestClient(create_app()) as open_:
        allowed = open_.options("/v1/jobs", headers=preflight)
        simple = open_.get("/v1/jobs", headers={"Origin": "https://app.example.org"})
        stranger = open_.options("/v1/jobs", headers={**preflight, "Origin": "https://evil.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.org"
    assert "prefer" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers
    assert simple.headers["access-control-allow-origin"] == "https://app.example.org"
    assert "Preference-Applied" in simple.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in stranger.headers
