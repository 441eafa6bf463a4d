"""Scoped keys: reading needs jobs:read, changing needs jobs:write, the webhook secret needs admin."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from shared.auth import service as keys
from shared.auth.scopes import Scope
from shared.db import session_scope
from tests.api.conftest import bearer


def key_with(*scopes: Scope) -> dict[str, str]:
    with session_scope() as session:
        return bearer(keys.create_key(session, "scoped", frozenset(scopes)).key)


def assert_refused(response: object, scope: str) -> None:
    assert response.status_code == 403, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "insufficient_scope" and body["scope"] == scope and scope in body["detail"]
    assert f'scope="{scope}"' in response.headers["www-authenticate"]  # type: ignore[attr-defined]


def test_a_read_only_key_reads_and_is_refused_everything_else(secured_client: TestClient) -> None:
    reader = key_with(Scope.JOBS_READ)
    job = f"/v1/jobs/{uuid.uuid4()}"

    assert secured_client.get("/v1/jobs", headers=reader).status_code == 200
    assert secured_client.get("/v1/models", headers=reader).status_code == 200
    assert secured_client.get(job, headers=reader).status_code == 404
    assert_refused(
        secured_client.post("/v1/jobs", json={"audio_url": "https://example.org/a.wav"}, headers=reader),
        "jobs:write",
    )
    assert_refused(secured_client.delete(job, headers=reader), "jobs:write")
    assert_refused(secured_client.post(f"{job}/deliveries", headers=reader), "jobs:write")
    assert_refused(secured_client.post("/v1/batches", json={"audio_urls": []}, headers=reader), "jobs:write")
    assert_refused(secured_client.get("/v1/webhook-secret", headers=reader), "admin")
    assert_refused(secured_client.post("/v1/webhook-secret/rotate", headers=reader), "admin")
    dataset = f"/v1/datasets/{uuid.uuid4()}"
    assert secured_client.get("/v1/datasets", headers=reader).status_code == 200
    assert secured_client.get(dataset, headers=reader).status_code == 404
    assert_refused(
        secured_client.post("/v1/datasets", files={"archive": b"PK"}, headers=reader), "jobs:write"
    )
    assert_refused(secured_client.delete(dataset, headers=reader), "jobs:write")


def test_a_write_only_key_submits_but_cannot_read(secured_client: TestClient) -> None:
    writer = key_with(Scope.JOBS_WRITE)

    created = secured_client.post("/v1/jobs", json={"audio_url": "https://example.org/a.wav"}, headers=writer)

    assert created.status_code == 202
    assert_refused(secured_client.get(f"/v1/jobs/{created.json()['id']}", headers=writer), "jobs:read")
    assert_refused(secured_client.get("/v1/batches/" + str(uuid.uuid4()), headers=writer), "jobs:read")


def test_an_admin_only_key_reads_its_secret_and_nothing_else(secured_client: TestClient) -> None:
    admin = key_with(Scope.ADMIN)
    assert secured_client.get("/v1/webhook-secret", headers=admin).status_code == 200
    assert_refused(secured_client.get("/v1/jobs", headers=admin), "jobs:read")
