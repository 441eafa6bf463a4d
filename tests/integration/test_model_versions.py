"""Registered model versions through the real service: PostgreSQL, Redis, the API and a Celery worker that
loads versions on demand. Versions are registered directly (tests/model_versions.py), as a finished
training would, never through the trainings API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from shared.audio import stream_mono
from shared.config import Settings
from shared.storage import Storage, open_storage
from tests.audio_factory import write_tone
from tests.integration.conftest import servers_env, settings_from
from tests.integration.stack import Stack, free_port
from tests.integration.test_client_cli import emoq
from tests.model_factory import save_tiny_checkpoint
from tests.model_versions import register_version
from worker.inference import AudioClassifier

pytestmark = pytest.mark.integration

WINDOW_SECONDS = 0.25


class Service:
    def __init__(self, stack: Stack, settings: Settings) -> None:
        self.stack = stack
        self.storage: Storage = open_storage(settings)
        self.engine = create_engine(settings.database_url)

    def register(self, checkpoint: Path, **facts: object) -> tuple[str, str, str]:
        """The new version's id, revision and storage key."""
        with Session(self.engine) as session, session.begin():
            version = register_version(session, self.storage, checkpoint, **facts)
            return str(version.id), version.revision, version.storage_key


@pytest.fixture(scope="module")
def custom_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another seed than the served model's: its scores differ, so a mix-up would show."""
    return save_tiny_checkpoint(tmp_path_factory.mktemp("custom-model"), seed=7)


@pytest.fixture(scope="module")
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tiny_model: Path
) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("model-versions")
    env = {
        "EMOQ_DATA_DIR": str(root / "var"),
        "EMOQ_MODEL": str(tiny_model),
        "EMOQ_WINDOW_SECONDS": str(WINDOW_SECONDS),
        "EMOQ_WORKER_CONCURRENCY": "1",
        "EMOQ_MODEL_CACHE_SIZE": "1",
        "EMOQ_WORKER_METRICS_PORT": str(free_port()),
        "EMOQ_METRICS_PORT": str(free_port()),
    }
    with ExitStack() as cleanup:
        env |= cleanup.enter_context(servers_env("postgres+redis", request))
        stack = Stack(root, env)
        cleanup.callback(stack.close)
        stack.emoq("migrate")
        stack.start("api", "api")
        stack.start("worker", "worker")
        stack.wait_ready()
        running = Service(stack, settings_from({**stack.env, **env}))
        cleanup.callback(running.engine.dispose)
        yield running


def reference_scores(checkpoint: Path, clip: Path) -> dict[str, float]:
    """The same checkpoint loaded and run directly, as the worker's own path does."""
    classifier = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=WINDOW_SECONDS)
    with closing(stream_mono(clip, target_rate=classifier.sampling_rate, max_seconds=60)) as blocks:
        return {score.label: score.score for score in classifier.classify(blocks).scores}


def test_a_job_on_a_version_is_scored_by_that_checkpoint_and_says_so(
    service: Service, custom_model: Path, tiny_model: Path, tmp_path: Path
) -> None:
    version_id, revision, _ = service.register(custom_model)
    clip = write_tone(tmp_path / "tone.wav", fmt="wav", seconds=1.5, freq=330)
    # Sent together, so both wait at once: the worker must not put them through one pass.
    on_version = service.stack.submit(clip, model=version_id).json()["id"]
    on_served = service.stack.submit(clip).json()["id"]

    version_job = service.stack.wait_for(on_version, timeout=120)
    served_job = service.stack.wait_for(on_served, timeout=120)

    assert (version_job["status"], served_job["status"]) == ("succeeded", "succeeded"), service.stack.logs()
    assert version_job["model_version_id"] == version_id
    assert version_job["result"]["model"] == {
        "name": "default",
        "id": version_id,
        "revision": revision,
        "precision": "fp32",
    }
    scores = {score["label"]: score["score"] for score in version_job["result"]["scores"]}
    assert scores == pytest.approx(reference_scores(custom_model, clip), abs=1e-5)
    served = {score["label"]: score["score"] for score in served_job["result"]["scores"]}
    assert served == pytest.approx(reference_scores(tiny_model, clip), abs=1e-5)
    assert served_job["result"]["model"]["id"] == tiny_model.name


def test_the_owners_promoted_version_answers_when_no_model_is_named(
    service: Service, custom_model: Path, tmp_path: Path
) -> None:
    version_id, _, _ = service.register(custom_model, name="promoted")
    client = service.stack.client
    assert client.post(f"/v1/models/{version_id}/promote").status_code == 200
    try:
        done = emoq(
            f"http://127.0.0.1:{service.stack.port}",
            "submit",
            str(write_tone(tmp_path / "a.wav", fmt="wav")),
            "--wait",
        )
        listed = emoq(f"http://127.0.0.1:{service.stack.port}", "models", "list")
    finally:
        client.delete("/v1/models/default")

    assert done.returncode == 0, done.stderr
    assert f"[default: {version_id}]" in done.stdout
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if line.startswith(version_id)]
    assert "promoted" in row and "default" in row


def test_a_version_whose_archive_is_gone_fails_its_jobs_with_a_code(service: Service, tmp_path: Path) -> None:
    # A checkpoint of its own: no worker has unpacked this revision before it was lost.
    version_id, _, key = service.register(save_tiny_checkpoint(tmp_path / "lost", seed=11))
    service.storage.delete(key)

    job_id = service.stack.submit(write_tone(tmp_path / "a.wav", fmt="wav"), model=version_id).json()["id"]
    job = service.stack.wait_for(job_id, timeout=60)

    assert job["status"] == "failed" and job["error"]["code"] == "model_unavailable", job
    assert job["attempts"] == 0, "failed at once, never claimed nor retried"
    assert uuid.UUID(job["model_version_id"]) == uuid.UUID(version_id)
