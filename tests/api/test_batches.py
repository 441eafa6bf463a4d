from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.config import Settings
from shared.db import session_scope
from shared.models import Job, JobStatus
from tests.api.conftest import announce_served_model, queued_messages, stored_blobs
from tests.audio_factory import write_tone
from tests.bad_audio import BAD_UPLOADS


def multipart(paths: list[Path]) -> list[tuple[str, tuple[str, bytes]]]:
    return [("files", (path.name, path.read_bytes())) for path in paths]


@pytest.fixture
def good_files(tmp_path: Path) -> list[Path]:
    return [
        write_tone(tmp_path / f"clip{i}.{fmt}", fmt=fmt, seconds=1.0)
        for i, fmt in enumerate(["wav", "flac", "mp3"])
    ]


def test_batch_of_files_with_one_bad_file(
    client: TestClient, embedded: Settings, good_files: list[Path], tmp_path: Path
) -> None:
    bad = BAD_UPLOADS[0].write(tmp_path)
    files = [*good_files[:2], bad, good_files[2]]

    response = client.post("/v1/batches", files=multipart(files), data={"metadata": '{"campaign": 3}'})

    assert response.status_code == 202, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/batches/{created['id']}"
    assert len(created["job_ids"]) == 4
    jobs = [client.get(f"/v1/jobs/{job_id}").json() for job_id in created["job_ids"]]
    assert [job["input"]["filename"] for job in jobs] == [path.name for path in files]
    assert [job["status"] for job in jobs] == ["queued", "queued", "failed", "queued"]
    assert jobs[2]["error"]["code"] == "undecodable_audio"
    assert len(stored_blobs(embedded)) == 3, "the bad file's bytes are not kept"
    assert len(queued_messages(embedded)) == 3

    batch = client.get(f"/v1/batches/{created['id']}").json()
    assert batch["status"] == "running"
    assert batch["job_count"] == 4
    assert batch["counts"]["queued"] == 3 and batch["counts"]["failed"] == 1
    assert batch["progress"] == pytest.approx(0.25)
    assert batch["metadata"] == {"campaign": 3}
    assert [job["id"] for job in batch["jobs"]] == created["job_ids"]


def test_batch_progress_counts_finished_jobs_whole_and_running_ones_by_their_progress(
    client: TestClient, good_files: list[Path]
) -> None:
    created = client.post("/v1/batches", files=multipart(good_files)).json()
    first_start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with session_scope() as session:
        done, running, _ = (session.get(Job, uuid.UUID(job_id)) for job_id in created["job_ids"])
        done.status, done.started_at, done.finished_at = JobStatus.FAILED, first_start, first_start
        running.status, running.progress = JobStatus.PROCESSING, 0.5
        running.started_at = first_start + timedelta(seconds=3)

    batch = client.get(f"/v1/batches/{created['id']}", params={"limit": 1}).json()

    assert batch["counts"] | {"failed": 1, "processing": 1, "queued": 1} == batch["counts"]
    assert batch["progress"] == pytest.approx(1.5 / 3)
    assert datetime.fromisoformat(batch["started_at"]) == first_start


def test_batch_jobs_are_paginated_in_submission_order(client: TestClient, good_files: list[Path]) -> None:
    created = client.post("/v1/batches", files=multipart(good_files * 2)).json()

    seen, cursor = [], None
    while True:
        page = client.get(
            f"/v1/batches/{created['id']}", params={"limit": 4} | ({"cursor": cursor} if cursor else {})
        ).json()
        seen += [job["id"] for job in page["jobs"]]
        if (cursor := page["next_cursor"]) is None:
            break

    assert seen == created["job_ids"]


def test_batch_of_urls_as_json(client: TestClient, embedded: Settings) -> None:
    urls = ["https://example.org/a.wav", "https://example.org/calls/b.mp3?sig=1"]

    created = client.post("/v1/batches", json={"audio_urls": urls}).json()

    jobs = [client.get(f"/v1/jobs/{job_id}").json() for job_id in created["job_ids"]]
    assert [job["input"]["url"] for job in jobs] == urls
    assert [job["input"]["filename"] for job in jobs] == ["a.wav", "b.mp3"]
    assert all(job["status"] == "queued" for job in jobs)
    assert stored_blobs(embedded) == []


def test_files_and_urls_together(client: TestClient, good_files: list[Path]) -> None:
    response = client.post(
        "/v1/batches",
        files=multipart(good_files[:1]),
        data={"audio_urls": json.dumps(["https://example.org/x.wav"])},
    )

    assert response.status_code == 202
    assert len(response.json()["job_ids"]) == 2


@pytest.mark.parametrize("audio_urls", ["not json", '{"a": "https://example.org/x.wav"}', "[1, 2]"])
def test_audio_urls_must_be_a_json_array_of_strings(
    client: TestClient, good_files: list[Path], audio_urls: str
) -> None:
    response = client.post("/v1/batches", files=multipart(good_files[:1]), data={"audio_urls": audio_urls})

    assert response.status_code == 422 and response.json()["code"] == "invalid_audio_urls"


def test_batch_limits(
    client: TestClient, embedded: Settings, good_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "max_batch_files", 2)
    too_many = client.post("/v1/batches", files=multipart(good_files))
    assert too_many.status_code == 422 and too_many.json()["code"] == "too_many_files"

    monkeypatch.setattr(embedded, "max_batch_files", 10)
    monkeypatch.setattr(embedded, "max_batch_bytes", sum(p.stat().st_size for p in good_files) - 1)
    too_big = client.post("/v1/batches", files=multipart(good_files))
    assert too_big.status_code == 413 and too_big.json()["code"] == "batch_too_large"

    assert client.post("/v1/batches", json={"audio_urls": []}).json()["code"] == "invalid_body"
    assert (
        client.post("/v1/batches", data={"metadata": "{}"}, files={"x": (None, "y")}).json()["code"]
        == "empty_batch"
    )
    assert stored_blobs(embedded) == []


def test_one_oversized_file_fails_only_its_job(
    client: TestClient,
    embedded: Settings,
    good_files: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    big = write_tone(tmp_path / "big.wav", fmt="wav", seconds=5.0)
    monkeypatch.setattr(embedded, "max_upload_bytes", big.stat().st_size - 1)

    created = client.post("/v1/batches", files=multipart([good_files[0], big])).json()

    statuses = [client.get(f"/v1/jobs/{job_id}").json() for job_id in created["job_ids"]]
    assert statuses[0]["status"] == "queued"
    assert statuses[1]["status"] == "failed" and statuses[1]["error"]["code"] == "upload_too_large"


def test_cancel_batch_then_results_as_ndjson_and_csv(
    client: TestClient, embedded: Settings, good_files: list[Path], tmp_path: Path
) -> None:
    bad = BAD_UPLOADS[1].write(tmp_path)
    created = client.post("/v1/batches", files=multipart([good_files[0], bad])).json()

    cancelled = client.delete(f"/v1/batches/{created['id']}").json()

    assert cancelled["status"] == "completed" and cancelled["finished_at"] is not None
    assert cancelled["counts"]["cancelled"] == 1 and cancelled["counts"]["failed"] == 1
    assert cancelled["progress"] == 1.0
    assert stored_blobs(embedded) == []
    lines = [
        json.loads(line) for line in client.get(f"/v1/batches/{created['id']}/results").text.splitlines()
    ]
    assert [(line["job_id"], line["status"]) for line in lines] == list(
        zip(created["job_ids"], ["cancelled", "failed"], strict=True)
    )
    assert lines[1]["error"]["code"] == "undecodable_audio"
    table = client.get(f"/v1/batches/{created['id']}/results", headers={"Accept": "text/csv"})
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [row["file"] for row in rows] == [good_files[0].name, bad.name]
    assert rows[1]["error_code"] == "undecodable_audio"


def test_csv_has_a_column_per_label_even_with_no_succeeded_job(
    client: TestClient, good_files: list[Path], tmp_path: Path
) -> None:
    announce_served_model(["sad", "angry", "neutral"])
    bad = BAD_UPLOADS[1].write(tmp_path)
    created = client.post("/v1/batches", files=multipart([good_files[0], bad])).json()
    header = ["file", "job_id", "status", "dominant_label", "dominant_score", "angry", "neutral", "sad"]

    running = client.get(f"/v1/batches/{created['id']}/results", headers={"Accept": "text/csv"})
    client.delete(f"/v1/batches/{created['id']}")
    finished = client.get(f"/v1/batches/{created['id']}/results", headers={"Accept": "text/csv"})

    for table in (running, finished):
        assert next(csv.reader(io.StringIO(table.text)))[: len(header)] == header


def test_unknown_batch_and_webhooks_without_a_secret(
    client: TestClient, embedded: Settings, good_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only loopback development makes a secret of its own; elsewhere an unsigned webhook is refused.
    monkeypatch.setattr(embedded, "env", "production")
    assert client.get(f"/v1/batches/{uuid.uuid4()}").json()["code"] == "batch_not_found"
    response = client.post(
        "/v1/batches", files=multipart(good_files[:1]), data={"webhook_url": "https://example.org/hook"}
    )
    assert response.status_code == 422 and response.json()["code"] == "webhooks_not_configured"


def test_job_by_url(client: TestClient, embedded: Settings) -> None:
    response = client.post(
        "/v1/jobs", json={"audio_url": "https://example.org/talk.ogg", "metadata": {"k": 1}}
    )

    assert response.status_code == 202
    job = response.json()
    assert job["input"]["url"] == "https://example.org/talk.ogg"
    assert job["input"]["bytes"] is None and job["metadata"] == {"k": 1}
    assert len(queued_messages(embedded)) == 1
    assert client.post("/v1/jobs", json={"audio_url": "file:///etc/passwd"}).status_code == 422
    assert (
        client.post("/v1/jobs", data={"audio_url": "gopher://x/"}, files={"x": (None, "y")}).status_code
        == 422
    )
