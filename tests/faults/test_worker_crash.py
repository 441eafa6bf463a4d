"""Workers killed with SIGKILL: the jobs they held are queued again once their leases expire, and a job
that kills its worker every time fails as ``worker_crashed`` after ``EMOQ_MAX_ATTEMPTS`` attempts."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.audio_factory import write_tone
from tests.faults.conftest import StackFactory
from tests.faults.harness import endings
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration

BATCH_SIZE = 10


def test_kill_9_a_worker_mid_batch_and_every_job_still_ends_once(
    layout: dict[str, str], make_stack: StackFactory, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """On Redis, and on RabbitMQ with audio in S3 (``layout``, set up first so its servers outlive the stack)."""
    stack = make_stack(EMOQ_WORKER_CONCURRENCY="2", **layout)
    stack.start_all("api", "worker", "webhooks", "scheduler")
    stack.wait_ready()
    clips = [
        write_tone(tmp_path / f"{i}.wav", fmt="wav", seconds=8.0, freq=200.0 + 40 * i)
        for i in range(BATCH_SIZE)
    ]
    created = stack.client.post(
        "/v1/batches",
        files=[("files", (clip.name, clip.read_bytes(), "audio/wav")) for clip in clips],
        data={"webhook_url": receiver.url()},
    )
    assert created.status_code == 202, created.text
    batch_id, job_ids = created.json()["id"], created.json()["job_ids"]

    # Kill it while both its pool processes hold a job, some of the batch done and most of it not.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        counts = stack.client.get(f"/v1/batches/{batch_id}").json()["counts"]
        if counts.get("succeeded", 0) >= 2 and counts.get("processing", 0) >= 2:
            break
        time.sleep(0.05)
    stack.kill("worker")
    killed_at = time.monotonic()
    # Frozen now: nobody renews these leases, and none expires for seconds.
    held = [job_id for job_id, s in stack.statuses(job_ids).items() if s["status"] == "processing"]
    assert held, counts

    stack.start("worker")
    ended_after = stack.wait_all_final(job_ids, timeout=90)

    ended = endings(stack.engine, job_ids)
    assert ended.statuses == {"succeeded": BATCH_SIZE}, ended.statuses
    assert ended.result_rows == ended.jobs_with_results == BATCH_SIZE
    assert ended.ended_once, ended.end_events
    statuses = stack.statuses(job_ids)
    assert all(statuses[job_id]["attempts"] == 2 for job_id in held), statuses
    batch = stack.client.get(f"/v1/batches/{batch_id}").json()
    assert batch["finished_at"] is not None and batch["counts"]["succeeded"] == BATCH_SIZE
    completed = {
        r.webhook_id for r in receiver.wait_for(BATCH_SIZE + 1) if r.payload["type"] == "batch.completed"
    }
    assert len(completed) == 1
    print(
        f"\nkill -9 mid-batch: jobs held by the dead worker: {len(held)}; all {BATCH_SIZE} ended "
        f"{time.monotonic() - killed_at:.1f} s after the kill ({ended_after:.1f} s after the new worker started)"
    )


def test_a_job_that_kills_its_worker_every_time_fails_after_max_attempts(
    make_stack: StackFactory, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    stack = make_stack(EMOQ_MAX_ATTEMPTS="3")
    stack.start_all("api", "worker", "webhooks", "scheduler")
    stack.wait_ready()
    clip = write_tone(tmp_path / "poison.wav", fmt="wav", seconds=30.0)
    poison = stack.submit(clip, webhook_url=receiver.url()).json()["id"]

    # Every time an attempt is under way, its pool process dies, as if the audio crashed the decoder.
    kills, started = 0, time.monotonic()
    while time.monotonic() - started < 120:
        job = stack.statuses([poison])[poison]
        if job["status"] != "processing" and job["status"] != "queued":
            break
        if job["status"] == "processing" and job["attempts"] > kills:
            for pid in stack.pool_processes("worker"):
                os.kill(pid, signal.SIGKILL)
            kills += 1
        time.sleep(0.05)
    failed_after = time.monotonic() - started

    job = stack.job(poison)
    assert (job["status"], job["error"]["code"], job["attempts"]) == ("failed", "worker_crashed", 3), job
    assert kills == 3
    ended = endings(stack.engine, [poison])
    assert ended.result_rows == 0
    assert ended.ended_once, ended.end_events
    [event] = receiver.wait_for(1)
    assert (
        event.payload["type"] == "job.failed" and event.payload["data"]["error"]["code"] == "worker_crashed"
    )
    # The worker survives its poison: its next job succeeds.
    follow_up = stack.submit(write_tone(tmp_path / "fine.wav", fmt="wav", seconds=1.0)).json()["id"]
    assert stack.wait_for(follow_up, timeout=60)["status"] == "succeeded"
    recovered = [e["outcome"] for e in stack.logged("abandoned job recovered")]
    at_claim = len(stack.logged("job failed: its worker died on every attempt"))
    print(
        f"\npoison job: failed worker_crashed after {kills} killed attempts, {failed_after:.1f} s; "
        f"reconciler outcomes {recovered}, failed at claim: {at_claim}"
    )
