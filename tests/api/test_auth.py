"""Authentication: every client route wants a live API key; auth may be off only on a loopback address."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from cli import serve
from shared.auth import service as keys
from shared.config import Settings
from shared.db import session_scope
from tests.api.conftest import bearer, new_key

ROOT = Path(__file__).resolve().parents[2]


def assert_unauthorized(response) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthorized"


def test_no_key_a_wrong_key_or_a_revoked_key_is_a_401_problem(secured_client: TestClient) -> None:
    key = new_key("alice")
    assert secured_client.get("/v1/jobs", headers=bearer(key)).status_code == 200

    for headers in (
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {key}"},
        {"Authorization": key},
        bearer("emoq_" + "A" * 43),  # well-formed, unknown
        bearer(key[:-1]),
        bearer("not-a-key"),
    ):
        assert_unauthorized(secured_client.get("/v1/jobs", headers=headers))

    with session_scope() as session:
        keys.revoke_key(session, keys.tokens.display_prefix(key))
    assert_unauthorized(secured_client.get("/v1/jobs", headers=bearer(key)))


def test_every_client_route_needs_a_key_and_health_checks_do_not(secured_client: TestClient) -> None:
    paths = secured_client.get("/openapi.json").json()["paths"]
    client_routes = [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1/") or path == "/predict"
        for method in operations
    ]
    assert len(client_routes) >= 10 and ("POST", "/predict") in client_routes

    for method, path in client_routes:
        concrete = path.replace("{job_id}", str(uuid.uuid4())).replace("{batch_id}", str(uuid.uuid4()))
        assert_unauthorized(secured_client.request(method, concrete))
    assert secured_client.get("/healthz").status_code == 200
    # Not ready (no worker serves a model here), but answered without a key.
    assert secured_client.get("/readyz").json()["checks"]["database"] == "ok"
    assert secured_client.get("/openapi.json").status_code == 200


def test_the_openapi_document_declares_the_key_only_when_auth_is_on(
    client: TestClient, secured_client: TestClient
) -> None:
    secured = secured_client.get("/openapi.json").json()
    assert secured["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert secured["paths"]["/v1/jobs"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in secured["paths"]["/healthz"]["get"]

    open_document = client.get("/openapi.json").json()
    assert "securitySchemes" not in open_document.get("components", {})
    assert "security" not in open_document["paths"]["/v1/jobs"]["post"]


def test_emoq_keys_creates_lists_and_revokes_through_the_real_command(
    secured: Settings, secured_client: TestClient
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMOQ_")}
    env["EMOQ_DATA_DIR"] = str(secured.data_dir)

    def emoq(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "keys", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    created = emoq("create", "--name", "billing-service")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()  # stdout holds the key and nothing else
    assert key.startswith("emoq_") and len(key) == len("emoq_") + 43
    assert "only its hash is kept" in created.stderr
    assert secured_client.get("/v1/jobs", headers=bearer(key)).status_code == 200

    listed = emoq("list")
    assert listed.returncode == 0
    [row] = [line for line in listed.stdout.splitlines() if "billing-service" in line]
    assert key[:13] in row and row.rstrip().endswith("-")  # shown by prefix, not revoked
    assert key not in listed.stdout + listed.stderr
    assert keys.tokens.hash_key(key) not in listed.stdout

    revoked = emoq("revoke", key[:13] + "…")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert_unauthorized(secured_client.get("/v1/jobs", headers=bearer(key)))
    assert "was already revoked" in emoq("revoke", row.split()[0]).stdout
    missing = emoq("revoke", "emoq_nothere")
    assert missing.returncode == 1 and "no API key" in missing.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "emoq.example.com"])
def test_auth_cannot_be_disabled_on_a_public_address(host: str) -> None:
    with pytest.raises(ValidationError, match="EMOQ_AUTH_DISABLED=true is refused"):
        Settings(auth_disabled=True, api_host=host)

    assert Settings(auth_disabled=False, api_host=host).auth_disabled is False


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_auth_may_be_disabled_on_loopback(host: str) -> None:
    assert Settings(auth_disabled=True, api_host=host).auth_disabled is True


def test_auth_is_on_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMOQ_AUTH_DISABLED", raising=False)
    assert Settings().auth_disabled is False


def test_emoq_api_refuses_a_public_host_flag_with_auth_disabled(embedded: Settings) -> None:
    assert embedded.auth_disabled
    assert serve._api(argparse.Namespace(host="0.0.0.0", port=None)) == 2
