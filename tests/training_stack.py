"""What tests of trainings do to a running stack: upload a corpus, wait on a training, read what it
registered straight from the database."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from shared.models import ModelVersion, WebhookEvent
from tests.dataset_factory import zip_folder


def upload_corpus(client: httpx.Client, folder: Path) -> str:
    files = {"archive": ("corpus.zip", zip_folder(folder), "application/zip")}
    response = client.post("/v1/datasets", files=files)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def wait_training(
    client: httpx.Client,
    training_id: str,
    done: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = 180,
    logs: Callable[[], str] = str,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    training: dict[str, Any] = {}
    while time.monotonic() < deadline:
        training = client.get(f"/v1/trainings/{training_id}").json()
        if done(training):
            return training
        time.sleep(0.1)
    raise AssertionError(f"training {training_id}: {training}\n{logs()}")


def versions_of(engine: Engine, training_id: str) -> list[ModelVersion]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(ModelVersion).where(ModelVersion.training_id == uuid.UUID(training_id))
        )
        return list(rows.all())


def end_events(engine: Engine, training_id: str) -> dict[str, int]:
    """The training.* webhook events recorded for it, by type."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(WebhookEvent.type, func.count())
            .where(WebhookEvent.training_id == uuid.UUID(training_id))
            .group_by(WebhookEvent.type)
        )
        return {event_type: count for event_type, count in rows}
