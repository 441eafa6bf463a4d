"""Hosts that share no disk: the API and two workers, each with a data folder of its own, meet only in
PostgreSQL, RabbitMQ and the S3 store. Single jobs and a batch all succeed, both workers take work, and
no job is lost or left with audio behind."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.audio_factory import write_tone
from tests.integration.conftest import STACK_ENV, servers_env, settings_from
from tests.integration.stack import Stack, free_port
from tests.stored_audio import stored_audio

pytestmark = pytest.mark.integration

SINGLES, BATCH = 4, 6
WORKERS = ("worker-a", "worker-b")


def succeeded_by(log: Path) -> set[str]:
    lines = (json.loads(line) for line in log.read_text().splitlines() if line.startswith("{"))
    return {line["job_id"] for line in lines if line.get("msg") == "job succeeded"}


def wait_for_workers(root: Path, names: tuple[str, ...], timeout: float = 120) -> None:
    """Until every worker says it is ready: the first one up must not take all the work alone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = {name: (root / f"{name}.log").read_text(errors="replace") for name in names}
        if all(f"inference@{name} ready." in log for name, log in logs.items()):
            return
        time.sleep(0.5)
    raise AssertionError(f"workers not ready in {timeout} s")


def test_api_and_two_workers_with_separate_folders_share_only_the_servers(
    request: pytest.FixtureRequest, tmp_path: Path, tiny_model: Path
) -> None:
    with servers_env("postgres+rabbitmq+s3", request) as servers:
        env = {**STACK_ENV, **servers, "EMOQ_MODEL": str(tiny_model), "EMOQ_WORKER_CONCURRENCY": "1"}
        env["EMOQ_WINDOW_SECONDS"] = "0.25"  # quick jobs: this test is about where they run, not how long
        stack = Stack(tmp_path, env)
        folders = {name: tmp_path / f"host-{name}" for name in ("api", *WORKERS, "webhooks")}
        try:
            stack.emoq("migrate")
            stack.start("api", "api", EMOQ_DATA_DIR=str(folders["api"]))
            for name in WORKERS:
                stack.start(
                    name,
                    *("worker", "--name", f"inference@{name}"),  # two hosts' workers, two node names
                    EMOQ_DATA_DIR=str(folders[name]),
                    EMOQ_WORKER_METRICS_PORT=str(free_port()),
                )
            stack.start(
                "webhooks",
                "webhooks",
                EMOQ_DATA_DIR=str(folders["webhooks"]),
                EMOQ_WEBHOOKS_METRICS_PORT=str(free_port()),
            )
            # The scheduler keeps its schedule file in its own folder; no other host reads it.
            stack.start("scheduler", "scheduler", EMOQ_DATA_DIR=str(tmp_path / "host-scheduler"))
            stack.wait_ready()
            wait_for_workers(tmp_path, WORKERS)
            clips = [
                write_tone(tmp_path / f"clip-{i}.wav", fmt="wav", seconds=1.5, freq=180.0 + 30 * i)
                for i in range(SINGLES + BATCH)
            ]

            singles = [stack.submit(clip).json()["id"] for clip in clips[:SINGLES]]
            batch = stack.client.post(
                "/v1/batches",
                files=[("files", (c.name, c.read_bytes(), "audio/wav")) for c in clips[SINGLES:]],
            )
            assert batch.status_code == 202, batch.text
            job_ids = singles + batch.json()["job_ids"]
            ended = [stack.wait_for(job_id, timeout=240) for job_id in job_ids]

            assert [job["status"] for job in ended] == ["succeeded"] * len(job_ids), stack.logs()
            taken = {name: succeeded_by(tmp_path / f"{name}.log") for name in WORKERS}
            assert all(taken.values()), f"each worker takes work: {taken}"
            assert taken["worker-a"] | taken["worker-b"] == set(job_ids)
            assert not taken["worker-a"] & taken["worker-b"], "no job runs to the end twice"
            assert stored_audio(settings_from(env)) == [], "the bucket is empty once every job has ended"
            on_disk = [
                p for folder in folders.values() if folder.exists() for p in folder.rglob("*") if p.is_file()
            ]
            assert on_disk == [], "neither the API nor a worker keeps audio (or anything) on its own disk"
        finally:
            stack.close()
