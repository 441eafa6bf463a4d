from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from shared.auth import service as keys
from shared.catalog.display import display_for
from shared.catalog.names import DEFAULT_NAME
from shared.config import Settings
from shared.db import session_scope
from shared.jobs.repository import record_served_model
from shared.models import ServedModel


@pytest.fixture
def client(embedded: Settings) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def secured(embedded: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The embedded default with auth on, as in production."""
    monkeypatch.setattr(embedded, "auth_disabled", False)
    return embedded


@pytest.fixture
def secured_client(secured: Settings) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def new_key(name: str = "test") -> str:
    """A key made by the code `emoq keys create` runs."""
    with session_scope() as session:
        return keys.create_key(session, name).key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def submit(
    client: TestClient | httpx.Client, path: Path, *, headers: dict[str, str] | None = None, **fields: str
) -> httpx.Response:
    with path.open("rb") as audio:
        return client.post("/v1/jobs", files={"file": (path.name, audio)}, data=fields, headers=headers)


def stored_blobs(settings: Settings) -> list[Path]:
    """Audio files in storage, finished or half-written."""
    return (
        [p for p in folder.rglob("*") if p.is_file()]
        if (folder := settings.local_storage_dir) and folder.exists()
        else []
    )


def queued_messages(settings: Settings) -> list[Path]:
    folder = settings.broker_dir / "queue"
    return [p for p in folder.iterdir() if p.is_file()] if folder.exists() else []


def announce_served_model(labels: list[str], *, name: str = DEFAULT_NAME, model_id: str = "m") -> None:
    """What a worker records when its model has loaded (worker.runtime), without loading one."""
    with session_scope() as session:
        record_served_model(
            session,
            ServedModel(
                name=name,
                model_id=model_id,
                revision="r1",
                labels=labels,
                sample_rate=16000,
                window_seconds=2.0,
                hop_seconds=1.0,
                device="cpu",
                precision="fp32",
                display={label: shown.model_dump() for label, shown in display_for(labels).items()},
            ),
        )
