"""/metrics of a running service: the API's, the inference workers' and the webhook workers'.

Workers are prefork pools: what a child counts must reach the parent's endpoint (multiprocess mode).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.audio_factory import write_tone
from tests.integration.conftest import RunningService
from tests.metrics_text import sample, samples
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration


def scraper(port: int) -> Callable[[], str]:
    def scrape() -> str:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert response.status_code == 200
        return response.text

    return scrape


def wait_until(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the metric never reached the expected value"
        time.sleep(0.2)


def test_what_workers_did_reaches_their_metrics(
    service: RunningService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    worker = scraper(service.settings.worker_metrics_port)
    webhooks = scraper(service.settings.webhooks_metrics_port)
    before, hooks_before = worker(), webhooks()
    delivered = {"outcome": "delivered"}
    clips = [write_tone(tmp_path / f"clip{i}.wav", fmt="wav", seconds=1.0 + i) for i in range(2)]

    ids = [service.stack.submit(clip, webhook_url=receiver.url("/m")).json()["id"] for clip in clips]
    jobs = [service.stack.wait_for(job_id) for job_id in ids]
    # A worker counts a job's inference just after committing its result, which the poll may see first.
    cpu = {"device": "cpu"}
    count = "emoq_inference_seconds_count"
    wait_until(lambda: sample(worker(), count, **cpu) - sample(before, count, **cpu) == 2)
    after = worker()

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert [job["status"] for job in jobs] == ["succeeded", "succeeded"]
    assert grew("emoq_jobs_finished_total", status="succeeded", error_code="") == 2
    assert grew("emoq_job_latency_seconds_count", status="succeeded") == 2
    assert grew("emoq_inference_seconds_count", device="cpu") == 2
    assert grew("emoq_real_time_factor_count", device="cpu") == 2
    audio = sum(job["input"]["duration_s"] for job in jobs)
    assert grew("emoq_audio_seconds_total", device="cpu") == pytest.approx(audio, abs=0.05)
    (model,) = samples(after, "emoq_model_load_seconds")
    assert model["device"] == "cpu" and sample(after, "emoq_model_load_seconds", **model) > 0
    wait_until(
        lambda: (
            sample(webhooks(), "emoq_webhook_attempts_total", **delivered)
            - sample(hooks_before, "emoq_webhook_attempts_total", **delivered)
            == 2
        )
    )
    assert sample(webhooks(), "emoq_webhook_attempt_seconds_count") >= 2


def test_the_api_reports_the_state_of_the_service(service: RunningService, tmp_path: Path) -> None:
    job_id = service.stack.submit(write_tone(tmp_path / "a.wav", fmt="wav", seconds=0.5)).json()["id"]
    service.stack.wait_for(job_id)

    # On its own listener: the API's port, which clients reach, has no /metrics (no token is set).
    text = scraper(service.settings.metrics_port)()
    assert service.stack.client.get("/metrics").status_code == 404

    assert sample(text, "emoq_jobs", status="succeeded") >= 1
    assert sample(text, "emoq_state_source_up", source="database") == 1
    assert sample(text, "emoq_state_source_up", source="broker") == 1
    assert {labels["queue"] for labels in samples(text, "emoq_queue_depth")} == {
        "inference",
        "bulk",
        "webhooks",
        "maintenance",
        "training",
    }
