"""SIGTERM to a worker in the middle of a job: the job goes back to the queue at once, the worker stops
without waiting for it, and another worker finishes it, exactly once."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.audio_factory import write_tone
from tests.faults.conftest import StackFactory
from tests.faults.harness import endings
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration


def test_sigterm_mid_job_hands_the_job_back_and_it_ends_once(
    make_stack: StackFactory, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    stack = make_stack()
    stack.start_all("api", "worker", "webhooks", "scheduler")
    stack.wait_ready()
    clip = write_tone(tmp_path / "long.wav", fmt="wav", seconds=30.0)
    job_id = stack.submit(clip, webhook_url=receiver.url()).json()["id"]
    deadline = time.monotonic() + 30
    while (job := stack.job(job_id))["progress"] < 0.1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job["status"] == "processing", job

    process = stack.processes["worker"]
    stopping = time.monotonic()
    stack.stop("worker", signal.SIGTERM, timeout=60)
    stopped_after = time.monotonic() - stopping
    handed_back = stack.job(job_id)

    stack.start("worker")
    ended_after = stack.wait_all_final([job_id], timeout=90)

    # The worker stopped well before the job could have finished, and handed it back rather than dropped it.
    assert process.returncode == 0
    assert stopped_after < 5, stopped_after
    assert handed_back["status"] == "queued" and handed_back["progress"] == 0.0, handed_back
    assert any(
        json.loads(line).get("msg") == "job handed back to the queue"
        and json.loads(line).get("resent") is True
        for line in (stack.root / "worker-1.log").read_text().splitlines()
        if line.startswith("{")
    )
    job = stack.job(job_id)
    # Started twice, but the hand-back gave its attempt back: only the run that finished counts.
    assert (job["status"], job["attempts"]) == ("succeeded", 1), job
    ended = endings(stack.engine, [job_id])
    assert ended.result_rows == ended.jobs_with_results == 1
    assert ended.ended_once, ended.end_events
    print(
        f"\nSIGTERM: worker stopped in {stopped_after:.2f} s; job succeeded {ended_after:.1f} s after restart"
    )
