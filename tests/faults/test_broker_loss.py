"""Redis dies with jobs queued and comes back empty: every message is gone, yet every job ends, once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.audio_factory import write_tone
from tests.faults.conftest import StackFactory
from tests.faults.harness import endings
from tests.faults.servers import PrivateRedis
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration

BEFORE, DURING = 8, 2
CLIP_SECONDS = 30.0


def test_redis_restarted_empty_loses_no_job(
    make_stack: StackFactory, redis: PrivateRedis, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    # One job per worker pass, so the worker claims no queued job to fill a pass. It still claims the next
    # queued job from the database (without its message) each time one ends, Redis down or not, so the
    # reconciler has something to re-send only if the worker has not drained the queue before Redis is
    # back and the jobs are EMOQ_REQUEUE_AFTER_SECONDS old. With 8-second clips (0.4 to 0.7 s a job) the
    # worker had run all but one to four of them by the reconciler's first look, and in some runs all of
    # them (re-sent 0). With 30-second clips the queue outlasts the outage several times over: 6 re-sent.
    stack = make_stack(EMOQ_INFERENCE_BATCH_SIZE="1")
    stack.start_all("api", "worker", "webhooks", "scheduler")
    stack.wait_ready()
    clip = write_tone(tmp_path / "clip.wav", fmt="wav", seconds=CLIP_SECONDS)
    job_ids = [stack.submit(clip, webhook_url=receiver.url()).json()["id"] for _ in range(BEFORE)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [s["status"] for s in stack.statuses(job_ids).values()]
        if "succeeded" in statuses:
            break
        time.sleep(0.05)
    queued_at_crash = statuses.count("queued")
    assert queued_at_crash >= 4, statuses

    redis.kill()
    crashed_at = time.monotonic()
    # Submissions while the broker is down are still accepted: the job is in the database, its message
    # cannot be sent, and the reconciler sends it later.
    during = []
    for _ in range(DURING):
        started = time.monotonic()
        accepted = stack.submit(clip, webhook_url=receiver.url())
        during.append(time.monotonic() - started)
        assert accepted.status_code == 202, accepted.text
        job_ids.append(accepted.json()["id"])
    time.sleep(max(0.0, 2.0 - (time.monotonic() - crashed_at)))
    redis.start()
    down_for = time.monotonic() - crashed_at

    ended_after = stack.wait_all_final(job_ids, timeout=120)

    ended = endings(stack.engine, job_ids)
    assert ended.statuses == {"succeeded": BEFORE + DURING}, ended.statuses
    assert ended.result_rows == ended.jobs_with_results == BEFORE + DURING
    assert ended.ended_once, ended.end_events
    resent = sum(
        e["count"]
        for e in stack.logged("queued jobs sent again: the broker held fewer messages than queued jobs")
    )
    # The reconciler re-sent what the broker lost. Not necessarily one per job queued at the crash: a
    # worker keeps the messages it had already fetched from Redis (more than its prefetch count, measured
    # 1 to 3) and runs those jobs from them; that every job ended, once, is asserted above.
    assert resent >= 1
    print(
        f"\nRedis restarted empty: down {down_for:.1f} s, {queued_at_crash} queued messages lost, "
        f"{DURING} jobs accepted meanwhile (202 in {max(during):.1f} s at most), {resent} re-sent by the "
        f"reconciler; all {len(job_ids)} ended {ended_after:.1f} s after Redis came back"
    )
