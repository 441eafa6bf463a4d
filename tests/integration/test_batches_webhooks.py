"""Batches, audio by URL and signed webhooks, end to end with real workers, on both backends."""

from __future__ import annotations

import csv
import functools
import io
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.audio_factory import FORMATS, write_tone
from tests.bad_audio import BAD_UPLOADS
from tests.integration.conftest import WEBHOOK_SECRET, RunningService
from tests.integration.stack import free_port
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def audio_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain HTTP server for audio given by URL."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()


def wait_batch(service: RunningService, batch_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = service.stack.client.get(f"/v1/batches/{batch_id}").json()
        if batch["status"] == "completed":
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} did not complete: {batch['counts']}\n{service.stack.logs()}")


def test_batch_of_50_mixed_files_with_signed_webhooks(
    service: RunningService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    formats = list(FORMATS)
    good = [
        write_tone(
            tmp_path / f"call-{i:02d}{FORMATS[formats[i % len(formats)]].suffix}",
            fmt=formats[i % len(formats)],
            seconds=0.6,
            freq=200 + 10 * i,
        )
        for i in range(50 - len(BAD_UPLOADS))
    ]
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = [b.write(bad_dir) for b in BAD_UPLOADS]
    files = good[:20] + bad + good[20:]
    receiver.script("/hook", 500)  # the first delivery fails: it must be retried, same webhook-id

    response = service.stack.client.post(
        "/v1/batches",
        files=[("files", (p.name, p.read_bytes())) for p in files],
        data={"webhook_url": receiver.url("/hook"), "metadata": '{"campaign": "q4"}'},
    )
    assert response.status_code == 202, response.text
    created = response.json()
    assert len(created["job_ids"]) == 50
    batch = wait_batch(service, created["id"])

    assert batch["counts"]["succeeded"] == len(good)
    assert batch["counts"]["failed"] == len(bad)
    assert batch["progress"] == 1.0 and batch["finished_at"] is not None
    jobs = {job_id: service.stack.job(job_id) for job_id in created["job_ids"]}
    for position, path in enumerate(files):
        job = jobs[created["job_ids"][position]]
        assert job["input"]["filename"] == path.name
        if path in bad:
            assert job["status"] == "failed"
            assert job["error"]["code"] == BAD_UPLOADS[bad.index(path)].code
        else:
            assert job["status"] == "succeeded", job

    # Every job's event and the batch's arrive at least once, all signed; batch.completed exactly once.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        delivered = [r for r in receiver.received("/hook") if r.answered == 200]
        events = {r.webhook_id: r.payload for r in delivered}
        if len(events) == 51:
            break
        time.sleep(0.3)
    received = receiver.received("/hook")
    assert all(r.verified for r in received)
    assert len(events) == 51, f"{len(events)} distinct events delivered"
    job_events = {e["data"]["id"]: e["type"] for e in events.values() if e["type"].startswith("job.")}
    assert set(job_events) == set(created["job_ids"])
    assert sum(t == "job.failed" for t in job_events.values()) == len(bad)
    completed = [e for e in events.values() if e["type"] == "batch.completed"]
    assert len(completed) == 1 and completed[0]["data"]["id"] == created["id"]
    assert completed[0]["data"]["counts"]["succeeded"] == len(good)
    first = received[0]
    assert first.answered == 500
    assert [r.answered for r in received if r.webhook_id == first.webhook_id][-1] == 200

    table = service.stack.client.get(f"/v1/batches/{created['id']}/results", headers={"Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [row["file"] for row in rows] == [p.name for p in files]
    assert all(row["dominant_label"] for row, p in zip(rows, files, strict=True) if p not in bad)


def test_single_job_is_not_stuck_behind_a_big_batch(service: RunningService, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "long.wav", fmt="wav", seconds=6.0)
    batch = service.stack.client.post(
        "/v1/batches", files=[("files", (f"{i}.wav", clip.read_bytes())) for i in range(12)]
    ).json()
    time.sleep(0.5)

    single = service.stack.submit(write_tone(tmp_path / "short.wav", fmt="wav", seconds=0.5)).json()
    assert service.stack.wait_for(single["id"], timeout=60)["status"] == "succeeded"

    unfinished = service.stack.client.get(f"/v1/batches/{batch['id']}").json()["counts"]
    assert unfinished["queued"] + unfinished["processing"] >= 6, unfinished
    service.stack.client.delete(f"/v1/batches/{batch['id']}")
    assert wait_batch(service, batch["id"])["counts"]["cancelled"] >= 6


def test_audio_by_url(service: RunningService, audio_server: tuple[str, Path], tmp_path: Path) -> None:
    base, folder = audio_server
    clip = write_tone(folder / "remote.flac", fmt="flac", seconds=1.0)

    fetched = service.stack.client.post("/v1/jobs", json={"audio_url": f"{base}/remote.flac"}).json()
    missing = service.stack.client.post("/v1/jobs", json={"audio_url": f"{base}/nothing.wav"}).json()
    private = service.stack.client.post("/v1/jobs", json={"audio_url": "http://10.255.255.1/a.wav"}).json()
    metadata = service.stack.client.post(
        "/v1/jobs", json={"audio_url": "http://169.254.169.254/latest/meta-data"}
    ).json()

    job = service.stack.wait_for(fetched["id"])
    assert job["status"] == "succeeded", job
    assert job["input"]["bytes"] == clip.stat().st_size
    assert job["input"]["container"] == "flac" and job["input"]["sha256"]
    assert service.stack.wait_for(missing["id"])["error"]["code"] == "download_failed"
    assert service.stack.wait_for(private["id"])["error"]["code"] == "url_not_allowed"
    assert service.stack.wait_for(metadata["id"])["error"]["code"] == "url_not_allowed"


def test_deliveries_are_recorded_and_can_be_resent(
    service: RunningService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    receiver.script("/flaky", 503, 200)
    job_id = service.stack.submit(
        write_tone(tmp_path / "a.wav", fmt="wav", seconds=0.5), webhook_url=receiver.url("/flaky")
    ).json()["id"]
    service.stack.wait_for(job_id)
    receiver.wait_for(2, path="/flaky", timeout=30)

    # The worker records an attempt just after the receiver has answered it.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = service.stack.client.get(f"/v1/jobs/{job_id}/deliveries").json()
        if len(log["attempts"]) >= 2:
            break
        time.sleep(0.1)
    codes = [attempt["status_code"] for attempt in log["attempts"]]
    assert codes[:2] == [200, 503], log
    assert service.stack.client.post(f"/v1/jobs/{job_id}/deliveries").status_code == 202
    again = receiver.wait_for(3, path="/flaky", timeout=30)
    assert len({r.webhook_id for r in again}) == 1, "a re-send keeps the webhook-id"


def test_the_readme_example_receiver_verifies_real_deliveries(
    service: RunningService, tmp_path: Path
) -> None:
    port = free_port()
    example = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "webhook_receiver.py"), str(port)],
        env={"EMOQ_WEBHOOK_SECRET": WEBHOOK_SECRET, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        job_id = service.stack.submit(
            write_tone(tmp_path / "b.wav", fmt="wav", seconds=0.5),
            webhook_url=f"http://127.0.0.1:{port}/emoq",
        ).json()["id"]
        service.stack.wait_for(job_id)
        line = example.stdout.readline()
        assert line.startswith(f"job.succeeded {job_id}"), line
    finally:
        example.terminate()
        example.wait(10)
