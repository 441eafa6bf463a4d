"""transcribe=true at submit: refused with a problem when no speech recogniser is configured, else kept
on the job for the worker. Transcripts through a real worker: tests/integration/test_transcripts.py."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.config import Settings
from shared.db import session_scope
from shared.jobs import repository
from tests.api.conftest import queued_messages, stored_blobs, submit
from tests.audio_factory import write_tone


@pytest.fixture
def tone_wav(tmp_path: Path) -> Path:
    return write_tone(tmp_path / "tone.wav", fmt="wav", seconds=0.5)


@pytest.fixture
def with_asr(embedded: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # The API only reads the setting; it never loads the model.
    monkeypatch.setattr(embedded, "asr_model", "openai/whisper-small")
    return embedded


def assert_unavailable(answer) -> None:
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "transcription_unavailable"
    assert "EMOQ_ASR_MODEL" in answer.json()["detail"]


def test_without_a_recogniser_transcribe_is_refused_and_nothing_is_kept(
    client: TestClient, embedded: Settings, tone_wav: Path
) -> None:
    assert_unavailable(submit(client, tone_wav, transcribe="true"))
    assert_unavailable(
        client.post("/v1/jobs", json={"audio_url": "https://example.com/a.wav", "transcribe": True})
    )
    with tone_wav.open("rb") as audio:
        assert_unavailable(
            client.post("/v1/batches", files=[("files", ("a.wav", audio))], data={"transcribe": "true"})
        )
    assert_unavailable(
        client.post("/v1/batches", json={"audio_urls": ["https://example.com/a.wav"], "transcribe": True})
    )

    assert stored_blobs(embedded) == [] and queued_messages(embedded) == []
    assert submit(client, tone_wav, transcribe="false").status_code == 202
    assert client.get("/v1/models").json()["transcription"] is False


def test_a_flag_that_is_not_a_boolean_is_refused(
    client: TestClient, with_asr: Settings, tone_wav: Path
) -> None:
    answer = submit(client, tone_wav, transcribe="please")

    assert answer.status_code == 422 and answer.json()["code"] == "invalid_transcribe"


def test_with_a_recogniser_the_jobs_ask_the_worker_for_a_transcript(
    client: TestClient, with_asr: Settings, tone_wav: Path
) -> None:
    single = submit(client, tone_wav, transcribe="true").json()["id"]
    plain = submit(client, tone_wav).json()["id"]
    with tone_wav.open("rb") as audio:
        batch = client.post(
            "/v1/batches", files=[("files", ("a.wav", audio))], data={"transcribe": "true"}
        ).json()
    by_url = client.post(
        "/v1/batches", json={"audio_urls": ["https://example.com/a.wav"], "transcribe": True}
    ).json()

    with session_scope() as session:
        asked = {
            job_id: repository.get(session, uuid.UUID(job_id)).transcribe
            for job_id in [single, plain, *batch["job_ids"], *by_url["job_ids"]]
        }
    assert client.get("/v1/models").json()["transcription"] is True
    assert asked == {single: True, plain: False, batch["job_ids"][0]: True, by_url["job_ids"][0]: True}
