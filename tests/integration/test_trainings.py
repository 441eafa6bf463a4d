"""Trainings end to end through real processes: `emoq api`, `emoq trainer` (the training queue only),
`emoq worker` and `emoq webhooks` on PostgreSQL and Redis, and `emoq run` as `make run` starts it. A
dataset of EmoDB clips (generated ones without the team's data) is uploaded and trained on for two
epochs with the shipped architecture; the model version it registers is checked against its archive in
storage and against `emoq evaluate` run on that archive's checkpoint, and jobs on it score each clip as
`emoq evaluate` did."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import ModelVersion
from shared.registry.checkpoints import unpack_checkpoint
from shared.storage import open_storage
from tests.conftest import SHARED_DATA
from tests.dataset_factory import write_corpus
from tests.faults.harness import FaultStack
from tests.integration.conftest import WEBHOOK_SECRET, servers_env, settings_from
from tests.integration.stack import FINAL, free_port
from tests.training_stack import upload_corpus, versions_of, wait_training
from tests.webhook_receiver import WebhookReceiver
from worker.training.recipe import SHIPPED

pytestmark = pytest.mark.integration

TRAINING_ENV = {
    "EMOQ_AUTH_DISABLED": "true",
    # Shorter than the first epoch (model set-up included): the lease keeper must renew mid-epoch.
    "EMOQ_JOB_LEASE_SECONDS": "5",
    "EMOQ_TORCH_THREADS": "1",
    "EMOQ_LOG_FORMAT": "json",
    "EMOQ_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "EMOQ_WEBHOOK_RETRY_SCHEDULE": "1,1,2",
    "EMOQ_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
    "EMOQ_DEVICE": "cpu",
}


class TrainingStack(FaultStack):
    """Processes in their own groups, killed at the end: nothing of a training outlives the module."""

    def client_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The `emoq` client against this stack."""
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env={**os.environ, "EMOQ_URL": f"http://127.0.0.1:{self.port}"},
            capture_output=True,
            text=True,
            timeout=180,
        )

    def wait_training(self, training_id: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        return wait_training(self.client, training_id, done, logs=self.logs)


# embedded: `make run` (SQLite, the filesystem broker), which starts a trainer with the rest; postgres+redis:
# the compose file's processes, one each.
@pytest.fixture(scope="module", params=["embedded", "postgres+redis"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tiny_model: Path
) -> Iterator[TrainingStack]:
    root = tmp_path_factory.mktemp(f"trainings-{request.param}")
    env = {
        **TRAINING_ENV,
        "EMOQ_DATA_DIR": str(root / "var"),
        "EMOQ_MODEL": str(tiny_model),
        **{
            f"EMOQ_{name}_PORT": str(free_port())
            for name in ("METRICS", "WORKER_METRICS", "WEBHOOKS_METRICS", "TRAINING_METRICS")
        },
    }
    with ExitStack() as cleanup:
        if request.param != "embedded":
            env |= cleanup.enter_context(servers_env(request.param, request))
        running = TrainingStack(root, env, settings_from(env).database_url)
        cleanup.callback(running.close)
        if request.param == "embedded":
            running.start("emoq-run", "run")
        else:
            running.emoq("migrate")
            running.start_all("api", "trainer", "webhooks", "worker")
        # Ready as far as the API goes (database and broker) is all a training needs; jobs on the model it
        # registers wait in the queue until the inference worker has started.
        running.wait_api()
        yield running


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five speakers: one held out for the evaluation, one for validation, three to train on; each with
    one angry and one sad clip, from EmoDB where the team's data is at hand, else generated."""
    folder = tmp_path_factory.mktemp("corpus") / "corpus"
    if not (SHARED_DATA / "emodb").is_dir():
        return write_corpus(folder, speakers=5)
    with (SHARED_DATA / "emodb" / "manifest.csv").open(newline="") as manifest:
        rows = list(csv.DictReader(manifest))
    speakers = sorted({row["speaker"] for row in rows})[:5]
    chosen = [
        next(row for row in rows if row["speaker"] == speaker and row["label"] == label)
        for speaker in speakers
        for label in ("angry", "sad")
    ]
    for row in chosen:
        (folder / row["label"]).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED_DATA / "emodb" / row["path"], folder / row["label"] / row["path"])
    lines = ["path,label,speaker", *(f"{r['label']}/{r['path']},{r['label']},{r['speaker']}" for r in chosen)]
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_a_training_registers_a_model_version_that_emoq_evaluate_agrees_with(
    stack: TrainingStack, corpus: Path, tmp_path: Path
) -> None:
    dataset_id = upload_corpus(stack.client, corpus)
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        # As a user would: `emoq trainings start --watch` follows it to the end.
        started = stack.client_cli(
            "trainings",
            "start",
            dataset_id,
            "--epochs",
            "2",
            "--name",
            "tones",
            "--webhook-url",
            receiver.url(),
            "--watch",
        )
        [event] = receiver.wait_for(1)

    assert started.returncode == 0, started.stderr + stack.logs()
    training_id = started.stdout.split("\t", 1)[0]
    training = stack.client.get(f"/v1/trainings/{training_id}").json()
    lines = started.stdout.splitlines()
    assert [line.split()[:2] for line in lines if line.startswith("epoch")] == [
        ["epoch", "1"],
        ["epoch", "2"],
    ]
    assert f"model version {training['model_version_id']}" in lines
    assert training_id in stack.client_cli("trainings", "list").stdout

    assert training["status"] == "succeeded", training
    assert training["attempts"] == 1 and training["progress"] == 1.0
    assert [epoch["epoch"] for epoch in training["epochs"]] == [1, 2]
    assert all(epoch["loss"] > 0 and 0 <= epoch["validation_uar"] <= 1 for epoch in training["epochs"])
    evaluation = training["evaluation"]
    held_out = training["params"]["test_speakers"]
    assert evaluation["speakers"] == held_out and evaluation["n"] == 2  # one clip per label per speaker
    assert evaluation["confusion"]["labels"] == ["angry", "sad"]
    assert sum(map(sum, evaluation["confusion"]["matrix"])) == 2
    assert event.verified and event.payload["type"] == "training.succeeded"
    assert event.payload["data"]["id"] == training_id
    assert event.payload["data"]["model_version_id"] == training["model_version_id"]
    png = stack.client.get(training["confusion_url"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")

    # Registered in the database in the transaction that ended the training, its archive in storage.
    settings = settings_from(stack.env)
    with Session(stack.engine) as session:
        [version] = session.scalars(
            select(ModelVersion).where(ModelVersion.training_id == uuid.UUID(training_id))
        )
    version_id = training["model_version_id"]
    assert str(version.id) == version_id
    assert version.name == "tones" and version.labels == ["angry", "sad"] and version.base_model is None
    assert version.dataset_id == uuid.UUID(dataset_id) and version.owner_key_id is None
    assert {k: version.metrics[k] for k in ("uar", "accuracy", "macro_f1")} == {
        k: evaluation[k] for k in ("uar", "accuracy", "macro_f1")
    }
    assert version.training_data["clips"] == 10 and version.training_data["test_speakers"] == held_out
    storage = open_storage(settings)
    with storage.local_path(version.storage_key) as archive:
        content = archive.read_bytes()
    assert hashlib.sha256(content).hexdigest() == version.revision and len(content) == version.size_bytes
    checkpoint = unpack_checkpoint(storage, version.storage_key, tmp_path / "checkpoint")
    # From scratch, the shipped model's recipe: its windows and input conditioning, and no temperature yet.
    config = json.loads((checkpoint / "config.json").read_text())
    assert (config["emoq_window_seconds"], config["emoq_hop_seconds"]) == (
        SHIPPED.augment.crop_seconds,
        SHIPPED.hop_seconds,
    )
    assert SHIPPED.conditioning is not None
    assert config["emoq_preprocessing"] == SHIPPED.conditioning.as_config()
    assert "emoq_temperature" not in config

    # `emoq evaluate` of that checkpoint on the held-out speakers' clips gives the training's numbers.
    evaluated = subprocess.run(
        [
            *(sys.executable, "-m", "cli.main", "evaluate", "--model", str(checkpoint)),
            *("--manifest", str(corpus / "manifest.csv"), "--speakers", ",".join(held_out), "--json"),
        ],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(evaluated.stdout)
    assert {k: report[k] for k in ("n", "uar", "accuracy", "macro_f1", "per_class")} == {
        k: evaluation[k] for k in ("n", "uar", "accuracy", "macro_f1", "per_class")
    }
    assert report["confusion"] == evaluation["confusion"]["matrix"]

    # Jobs on the new version, as a batch naming it, score each held-out clip as `emoq evaluate` did.
    clips = {Path(clip["path"]).name: clip["scores"] for clip in report["clips"]}
    files = [
        ("files", (Path(clip["path"]).name, Path(clip["path"]).read_bytes())) for clip in report["clips"]
    ]
    batch = stack.client.post("/v1/batches", files=files, data={"model": version_id})
    assert batch.status_code == 202, batch.text
    job_ids = batch.json()["job_ids"]
    stack.wait_all_final(job_ids, timeout=120)
    for job_id in job_ids:
        job = stack.client.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "succeeded", stack.logs()
        assert (
            job["result"]["model"]["id"] == version_id
            and job["result"]["model"]["revision"] == version.revision
        )
        scores = {score["label"]: score["score"] for score in job["result"]["scores"]}
        assert scores == pytest.approx(clips[job["input"]["filename"]], abs=1e-5)


def test_cancelling_a_running_training_stops_it_at_the_next_epoch_and_registers_nothing(
    stack: TrainingStack, corpus: Path
) -> None:
    dataset_id = upload_corpus(stack.client, corpus)
    training_id = stack.client.post("/v1/trainings", json={"dataset_id": dataset_id, "epochs": 60}).json()[
        "id"
    ]
    stack.wait_training(training_id, lambda t: len(t["epochs"]) >= 1)

    cancelled = stack.client_cli("trainings", "cancel", training_id)

    assert (cancelled.returncode, cancelled.stdout) == (0, f"{training_id}\tcancelled\n"), cancelled.stderr
    # The worker notices at its next epoch and is free for the next training at once.
    after = stack.client.post("/v1/trainings", json={"dataset_id": dataset_id, "epochs": 1}).json()["id"]
    assert stack.wait_training(after, lambda t: t["status"] in FINAL)["status"] == "succeeded"
    training = stack.client.get(f"/v1/trainings/{training_id}").json()
    assert training["status"] == "cancelled" and training["model_version_id"] is None
    assert len(training["epochs"]) < 60
    assert versions_of(stack.engine, training_id) == []
    assert stack.client.delete(f"/v1/trainings/{training_id}").status_code == 409


def test_fine_tuning_a_served_model_and_then_the_version_it_made(stack: TrainingStack, corpus: Path) -> None:
    dataset_id = upload_corpus(stack.client, corpus)

    def train(base_model: str) -> dict[str, Any]:
        body = {"dataset_id": dataset_id, "epochs": 1, "base_model": base_model}
        created = stack.client.post("/v1/trainings", json=body)
        assert created.status_code == 202, created.text
        return stack.wait_training(created.json()["id"], lambda t: t["status"] in FINAL)

    # The served model (four labels) gets a fresh head for the dataset's two.
    served = train("default")
    assert served["status"] == "succeeded", served
    tuned = train(served["model_version_id"])
    assert tuned["status"] == "succeeded", tuned
    [version] = versions_of(stack.engine, tuned["id"])
    assert version.base_model == served["model_version_id"] and version.labels == ["angry", "sad"]
