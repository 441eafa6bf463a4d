"""PostgreSQL stops for a few seconds under load: the API answers 503 ``database_unavailable`` (never a
500), every job answered 202 ends once, and workers that lost the database mid-job retry and finish."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.audio_factory import write_tone
from tests.faults.conftest import StackFactory
from tests.faults.harness import FaultStack, endings
from tests.faults.servers import PrivatePostgres
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 5.0


@dataclass(frozen=True)
class Answer:
    at: float
    status: int
    content_type: str
    code: str | None
    job_id: str | None


class Submitter(threading.Thread):
    """Uploads one clip after another, as a client would, and records every answer."""

    def __init__(self, stack: FaultStack, clip: Path, webhook_url: str) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=str(stack.client.base_url), timeout=30)
        self.clip, self.webhook_url = clip, webhook_url
        self.answers: list[Answer] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            with self.clip.open("rb") as audio:
                response = self.client.post(
                    "/v1/jobs",
                    files={"file": (self.clip.name, audio)},
                    data={"webhook_url": self.webhook_url},
                )
            body = response.json()
            self.answers.append(
                Answer(
                    at=time.monotonic(),
                    status=response.status_code,
                    content_type=response.headers.get("content-type", ""),
                    code=body.get("code"),
                    job_id=body.get("id") if response.status_code == 202 else None,
                )
            )
            time.sleep(0.1)
        self.client.close()


def test_postgres_outage_answers_503_and_loses_nothing(
    make_stack: StackFactory, postgres: PrivatePostgres, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    stack = make_stack(EMOQ_WORKER_CONCURRENCY="2")
    stack.start_all("api", "worker", "webhooks", "scheduler")
    stack.wait_ready()
    long_clip = write_tone(tmp_path / "long.wav", fmt="wav", seconds=15.0)
    busy = [stack.submit(long_clip, webhook_url=receiver.url()).json()["id"] for _ in range(2)]
    stack.wait_for(busy[0], {"processing"})
    submitter = Submitter(stack, write_tone(tmp_path / "short.wav", fmt="wav", seconds=2.0), receiver.url())
    submitter.start()
    time.sleep(1.5)

    try:
        postgres.stop("fast")
        down_at = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
    finally:
        postgres.start()
    up_at = time.monotonic()
    time.sleep(2.0)
    submitter.stopping.set()
    submitter.join(30)

    accepted = [a.job_id for a in submitter.answers if a.status == 202]
    job_ids = busy + [job_id for job_id in accepted if job_id is not None]
    stack.wait_all_final(job_ids, timeout=120)
    ended_after_up = time.monotonic() - up_at

    answers = Counter((a.status, a.code) for a in submitter.answers)
    during = [a for a in submitter.answers if down_at < a.at <= up_at]
    refused = [a for a in submitter.answers if a.status != 202]
    assert set(answers) <= {(202, None), (503, "database_unavailable")}, answers
    assert all(a.content_type == "application/problem+json" for a in refused)
    assert len(refused) >= 3 and len(during) >= 3, answers
    assert "Traceback" not in (stack.root / "api-1.log").read_text()
    ended = endings(stack.engine, job_ids)
    assert ended.statuses == {"succeeded": len(job_ids)}, ended.statuses
    assert ended.result_rows == ended.jobs_with_results == len(job_ids)
    assert ended.ended_once, ended.end_events
    # The uploads refused with 503 left no audio behind; the accepted ones' audio went when they ended.
    storage = Path(stack.env["EMOQ_DATA_DIR"]) / "audio"
    assert [p for p in storage.rglob("*") if p.is_file()] == []
    print(
        f"\nPostgreSQL down {up_at - down_at:.1f} s: {len(submitter.answers)} uploads, "
        f"{answers[(202, None)]} answered 202, {len(refused)} answered 503 database_unavailable, 0 answered 500; "
        f"all {len(job_ids)} accepted jobs succeeded, the last {ended_after_up:.1f} s after PostgreSQL was back"
    )
