"""Submit -> queue -> real worker -> database -> poll, on the embedded default and on PostgreSQL + Redis."""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.broker import Queue, TaskName
from shared.models import JobResultRow
from shared.results.affect import DEFAULT_CIRCUMPLEX
from tests.audio_factory import write_tone
from tests.bad_audio import (
    BAD_UPLOADS,
    MAX_AUDIO_SECONDS_FOR_BAD_UPLOADS,
    BadUpload,
    write_cut_in_half,
    write_lying_wav,
)
from tests.integration.conftest import WEBHOOK_SECRET, RunningService
from tests.model_factory import LABELS
from tests.stored_audio import stored_audio

pytestmark = pytest.mark.integration


def result_rows(service: RunningService, job_id: str) -> int:
    with service.engine.connect() as connection:
        query = select(func.count()).select_from(JobResultRow).where(JobResultRow.job_id == uuid.UUID(job_id))
        return connection.scalar(query)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "webm"])
def test_submit_poll_result(service: RunningService, tmp_path: Path, fmt: str) -> None:
    clip = write_tone(tmp_path / f"voice.{fmt}", fmt=fmt, seconds=1.5, sample_rate=44100, channels=2)

    accepted = service.stack.submit(clip, metadata='{"agent": "a-17"}')
    assert accepted.status_code == 202, accepted.text
    job = service.stack.wait_for(accepted.json()["id"])

    assert job["status"] == "succeeded", job
    assert job["attempts"] == 1 and job["progress"] == 1.0
    assert job["input"]["duration_s"] == pytest.approx(1.5, abs=0.1)
    result = job["result"]
    scores = [s["score"] for s in result["scores"]]
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) == pytest.approx(1.0, abs=1e-6)
    assert {s["label"] for s in result["scores"]} == set(LABELS)
    assert result["dominant"] == result["scores"][0]
    assert result["model"]["id"].startswith("tiny-model") and len(result["model"]["revision"]) == 12
    assert result["model"]["precision"] == "fp32", "auto keeps a tiny model at fp32"
    assert len(result["segments"]) >= 70
    assert service.stack.job(job["id"], segments="false")["result"]["segments"] == []
    assert result_rows(service, job["id"]) == 1
    assert stored_audio(service.settings) == [], "audio is deleted once the job has ended"


def test_models_reports_what_workers_serve(service: RunningService) -> None:
    [model] = service.stack.client.get("/v1/models").json()["models"]

    assert model["labels"] == list(LABELS)
    assert model["sample_rate"] == 16000
    assert model["window_seconds"] == pytest.approx(0.02)


def dropped_deliveries(service: RunningService, job_id: str) -> int:
    lines = service.stack.logs(tail=None).splitlines()
    return sum(job_id in line and "dropping this duplicate delivery" in line for line in lines)


def test_redelivery_does_not_process_twice(service: RunningService, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "long.wav", fmt="wav", seconds=9.0)
    job_id = service.stack.submit(clip).json()["id"]

    # The broker delivers the same job twice more while the first delivery runs (as after a lost ack).
    for _ in range(2):
        service.celery.send_task(TaskName.ANALYZE, args=[job_id], queue=Queue.INFERENCE)
    service.stack.wait_for(job_id)
    # Each duplicate is dropped, whether it comes while the job runs (held) or after it ended.
    deadline = time.monotonic() + 60
    while dropped_deliveries(service, job_id) < 2:
        assert time.monotonic() < deadline, "the duplicate deliveries were never dropped"
        time.sleep(0.5)

    job = service.stack.job(job_id)
    assert job["status"] == "succeeded"
    assert job["attempts"] == 1
    assert result_rows(service, job_id) == 1


def test_cancel_a_running_job(service: RunningService, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "long.wav", fmt="wav", seconds=9.0)
    job_id = service.stack.submit(clip).json()["id"]
    service.stack.wait_for(job_id, {"processing"})

    cancelled = service.stack.client.delete(f"/v1/jobs/{job_id}")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    time.sleep(1.5)

    job = service.stack.job(job_id)
    assert job["status"] == "cancelled" and job["result"] is None
    assert job["progress"] < 1.0
    assert result_rows(service, job_id) == 0
    assert stored_audio(service.settings) == []
    # The worker stopped at its next window and is free for the next job.
    follow_up = service.stack.submit(write_tone(tmp_path / "short.wav", fmt="wav", seconds=0.5)).json()["id"]
    assert service.stack.wait_for(follow_up)["status"] == "succeeded"


@pytest.mark.parametrize("bad", BAD_UPLOADS, ids=lambda b: b.name)
def test_bad_input_is_refused_and_leaves_nothing(
    service: RunningService, tmp_path: Path, bad: BadUpload
) -> None:
    response = service.stack.submit(bad.write(tmp_path))

    assert response.status_code == bad.status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == bad.code
    assert stored_audio(service.settings) == []


def test_audio_too_long_found_only_by_decoding_fails_the_job(service: RunningService, tmp_path: Path) -> None:
    # Browser recordings (webm) carry no duration: the API cannot know, the worker finds out.
    clip = write_tone(tmp_path / "recording.webm", fmt="webm", seconds=MAX_AUDIO_SECONDS_FOR_BAD_UPLOADS + 2)

    accepted = service.stack.submit(clip)
    assert accepted.status_code == 202
    job = service.stack.wait_for(accepted.json()["id"])

    assert job["status"] == "failed"
    assert job["error"]["code"] == "audio_too_long"
    assert job["result"] is None
    assert stored_audio(service.settings) == []


def test_worker_never_logs_audio_or_secrets(service: RunningService) -> None:
    logs = service.stack.logs(tail=None)
    assert "job succeeded" in logs
    assert "RIFF" not in logs
    assert "postgresql+psycopg://" not in logs
    assert WEBHOOK_SECRET.removeprefix("whsec_") not in logs


def test_too_short_found_only_by_decoding_fails_the_job(service: RunningService, tmp_path: Path) -> None:
    # At 96 kHz a fifth of a second fills the block the API decodes to probe; only the worker can tell.
    clip = write_tone(tmp_path / "click.wav", fmt="wav", seconds=0.2, sample_rate=96000)

    accepted = service.stack.submit(clip)
    assert accepted.status_code == 202, accepted.text
    job = service.stack.wait_for(accepted.json()["id"])

    assert job["status"] == "failed" and job["error"]["code"] == "too_short"


def test_files_cut_short_are_scored_and_flagged(service: RunningService, tmp_path: Path) -> None:
    files = [
        write_lying_wav(tmp_path / "cut.wav", seconds_present=2.0, declared_bytes=10 * 32000),
        write_cut_in_half(tmp_path / "half.mp3", fmt="mp3", seconds=4.0),
        write_tone(tmp_path / "whole.wav", fmt="wav", seconds=2.0),
    ]
    created = service.stack.client.post(
        "/v1/batches", files=[("files", (path.name, path.read_bytes())) for path in files]
    ).json()

    jobs = [service.stack.wait_for(job_id) for job_id in created["job_ids"]]
    table = service.stack.client.get(f"/v1/batches/{created['id']}/results", headers={"Accept": "text/csv"})

    assert [job["status"] for job in jobs] == ["succeeded"] * 3, jobs
    facts = [job["input"] for job in jobs]
    assert [fact["truncated"] for fact in facts] == [True, True, False]
    assert facts[0]["declared_duration_s"] == pytest.approx(10.0)
    assert facts[0]["duration_s"] == pytest.approx(2.0, abs=0.05)
    assert facts[1]["declared_duration_s"] == pytest.approx(4.0, abs=0.1)
    assert facts[1]["duration_s"] == pytest.approx(2.0, abs=0.3)
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [row["truncated"] for row in rows] == ["true", "true", "false"]
    assert [row["low_confidence"] for row in rows] == ["true"] * 3, "EMOQ_LOW_CONFIDENCE is 0.99"
    assert all(-1 <= float(row["arousal"]) <= 1 and float(row["confidence_margin"]) >= 0 for row in rows)
    assert float(rows[0]["declared_duration_s"]) == pytest.approx(10.0)


def test_results_say_how_sure_they_are_their_episodes_and_affect(
    service: RunningService, tmp_path: Path
) -> None:
    clip = write_tone(tmp_path / "voice.wav", fmt="wav", seconds=1.5)
    job = service.stack.wait_for(service.stack.submit(clip).json()["id"])
    result = job["result"]

    scores = result["scores"]
    assert result["confidence"]["score"] == result["dominant"]["score"]
    assert result["confidence"]["margin"] == pytest.approx(scores[0]["score"] - scores[1]["score"])
    assert result["low_confidence"] is (result["dominant"]["score"] < 0.99)
    for segment in result["segments"]:
        assert segment["confidence"]["score"] == segment["dominant"]["score"]
        assert segment["low_confidence"] is (segment["dominant"]["score"] < 0.99)

    episodes = result["episodes"]
    assert episodes and episodes[0]["start_s"] == 0.0
    assert episodes[-1]["end_s"] == pytest.approx(result["segments"][-1]["end_s"])
    assert sum(e["windows"] for e in episodes) == len(result["segments"])
    assert all(
        a["end_s"] == b["start_s"] and a["dominant"]["label"] != b["dominant"]["label"]
        for a, b in itertools.pairwise(episodes)
    )
    # EMOQ_EPISODE_MIN_SECONDS=0.1: every episode after the first lasts at least that long.
    assert all(e["end_s"] - e["start_s"] >= 0.1 - 1e-9 for e in episodes[1:])

    affect = result["affect"]
    placed = {s["label"]: s["score"] for s in scores}
    assert affect["derived"] is True and affect["coverage"] == pytest.approx(1.0)
    assert affect["valence"] == pytest.approx(sum(p * DEFAULT_CIRCUMPLEX[k][0] for k, p in placed.items()))
    assert affect["arousal"] == pytest.approx(sum(p * DEFAULT_CIRCUMPLEX[k][1] for k, p in placed.items()))
    assert service.stack.job(job["id"], segments="false")["result"]["episodes"] == episodes


def test_acoustic_features_on_request(service: RunningService, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "voice.wav", fmt="wav", seconds=1.5, sample_rate=44100, freq=220.0)
    asked = service.stack.wait_for(service.stack.submit(clip, features="true").json()["id"])
    plain = service.stack.wait_for(service.stack.submit(clip).json()["id"])

    assert asked["status"] == plain["status"] == "succeeded", (asked, plain)
    features = asked["result"]["features"]
    # Measured on the decoded audio (resampled to the model's 16 kHz): a steady half-scale 220 Hz tone.
    assert features["pitch_median_hz"] == pytest.approx(220.0, rel=0.01)
    assert features["voiced_share"] > 0.95
    assert features["loudness_dbfs"] == pytest.approx(-9.03, abs=0.1)
    assert len(features["mfcc"]) == 13
    segments = asked["result"]["segments"]
    assert all("features" in segment for segment in segments)
    # The stack's windows are 20 ms; a 40 ms frame is centred 20 ms in, so the very first holds none.
    assert all(segment["features"]["loudness_dbfs"] > -10 for segment in segments[1:-1])
    assert plain["result"]["features"] is None
    assert all(segment.get("features") is None for segment in plain["result"]["segments"])

    created = service.stack.client.post(
        "/v1/batches", files=[("files", (clip.name, clip.read_bytes()))], data={"features": "true"}
    ).json()
    [job] = [service.stack.wait_for(job_id) for job_id in created["job_ids"]]
    results = f"/v1/batches/{created['id']}/results"
    [row] = list(
        csv.DictReader(io.StringIO(service.stack.client.get(results, headers={"Accept": "text/csv"}).text))
    )
    [line] = [json.loads(text) for text in service.stack.client.get(results).text.splitlines()]

    assert float(row["feature_pitch_median_hz"]) == job["result"]["features"]["pitch_median_hz"]
    assert float(row["feature_mfcc12"]) == job["result"]["features"]["mfcc"][12]
    assert line["result"]["features"] == job["result"]["features"]
    assert line["result"]["segments"][0]["features"] == job["result"]["segments"][0]["features"]


def test_prefer_wait_answers_with_the_finished_job(service: RunningService, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "voice.wav", fmt="wav", seconds=0.5)
    with clip.open("rb") as audio:
        answer = service.stack.client.post(
            "/v1/jobs", files={"file": (clip.name, audio)}, headers={"Prefer": "wait=20"}, timeout=30
        )

    assert answer.status_code == 200, answer.text
    assert answer.headers["Preference-Applied"] == "wait=20"
    assert answer.json()["status"] == "succeeded" and answer.json()["result"]["scores"]


def test_predict_answers_in_the_shape_of_synchronous_servers(service: RunningService, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "voice.flac", fmt="flac", seconds=0.5)
    with clip.open("rb") as audio:
        answer = service.stack.client.post("/predict", files={"file": (clip.name, audio)}, timeout=60)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"results", "dominant"}
    assert {r["label"] for r in body["results"]} == set(LABELS)
    assert body["dominant"] == body["results"][0]
    assert sum(r["score"] for r in body["results"]) == pytest.approx(1.0, abs=1e-6)
