"""Each key's own webhook secret: read by its key only, rotated with a grace period, sealed at rest."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.auth import service as keys
from shared.config import Settings
from shared.db import session_scope
from shared.models import ApiKey
from shared.models.base import utcnow
from shared.sealing import SealedSecretUnreadable, reseal, unseal
from shared.webhooks.secrets import signing_secrets
from shared.webhooks.signing import signed_headers
from tests.api.conftest import bearer


def create(name: str) -> keys.CreatedKey:
    with session_scope() as session:
        return keys.create_key(session, name)


def secrets_at(key_id: uuid.UUID, settings: Settings, seconds_from_now: float) -> list[str]:
    with session_scope() as session:
        return signing_secrets(session, key_id, settings, at=utcnow() + timedelta(seconds=seconds_from_now))


def verifies(secret: str, secrets: list[str]) -> bool:
    """Whether a receiver holding ``secret`` accepts a request signed with ``secrets``."""
    now = utcnow()
    headers = signed_headers(secrets, msg_id="msg_1", body="{}", sent_at=now)
    try:
        Webhook(secret).verify("{}", headers)
    except WebhookVerificationError:
        return False
    return True


def test_each_key_reads_only_its_own_secret(secured_client: TestClient) -> None:
    alice, bob = create("alice"), create("bob")

    mine = secured_client.get("/v1/webhook-secret", headers=bearer(alice.key))
    theirs = secured_client.get("/v1/webhook-secret", headers=bearer(bob.key))

    assert mine.json() == {"secret": alice.webhook_secret}
    assert theirs.json() == {"secret": bob.webhook_secret}
    assert alice.webhook_secret.startswith("whsec_") and alice.webhook_secret != bob.webhook_secret
    assert alice.webhook_secret not in theirs.text
    assert secured_client.get("/v1/webhook-secret").status_code == 401


def test_a_rotation_signs_with_both_secrets_for_the_grace_period_only(
    secured: Settings, secured_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secured, "webhook_rotation_grace_seconds", 60)
    alice = create("alice")

    rotated = secured_client.post("/v1/webhook-secret/rotate", headers=bearer(alice.key)).json()

    new = rotated["secret"]
    assert new != alice.webhook_secret and rotated["previous_valid_until"] is not None
    assert secured_client.get("/v1/webhook-secret", headers=bearer(alice.key)).json()["secret"] == new
    during = secrets_at(alice.row.id, secured, 30)
    after = secrets_at(alice.row.id, secured, 61)
    assert during == [new, alice.webhook_secret]
    assert verifies(new, during) and verifies(alice.webhook_secret, during)
    assert after == [new]
    assert verifies(new, after) and not verifies(alice.webhook_secret, after)


def test_secrets_are_sealed_at_rest_and_open_only_with_the_sealing_key(
    secured: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setattr(secured, "secret_key", SecretStr(old))
    alice = create("alice")
    with session_scope() as session:
        sealed = session.scalar(select(ApiKey.webhook_secret).where(ApiKey.id == alice.row.id))
    assert sealed is not None and alice.webhook_secret.removeprefix("whsec_") not in sealed

    # A new sealing key first in the list: what was sealed under the old one still opens, and
    # resealing moves it to the new one, after which the old key can go.
    monkeypatch.setattr(secured, "secret_key", SecretStr(f"{new},{old}"))
    assert unseal(sealed, secured) == alice.webhook_secret
    resealed = reseal(sealed, secured)
    monkeypatch.setattr(secured, "secret_key", SecretStr(new))
    assert unseal(resealed, secured) == alice.webhook_secret
    with pytest.raises(SealedSecretUnreadable):
        unseal(sealed, secured)


def test_without_a_key_the_server_wide_secret_is_the_one(client: TestClient, embedded: Settings) -> None:
    """Auth disabled: one local user, whose deliveries the server-wide (here: development) secret signs."""
    answer = client.get("/v1/webhook-secret").json()["secret"]
    with session_scope() as session:
        assert signing_secrets(session, None, embedded, at=utcnow()) == [answer]
    rotated = client.post("/v1/webhook-secret/rotate").json()["secret"]
    assert rotated != answer and client.get("/v1/webhook-secret").json()["secret"] == rotated


def test_the_server_wide_secret_from_the_environment_is_not_rotated_by_the_api(
    client: TestClient, embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "webhook_secret", SecretStr("whsec_" + "A" * 32))
    answer = client.post("/v1/webhook-secret/rotate")
    assert answer.status_code == 409 and answer.json()["code"] == "secret_from_environment"


def test_production_refuses_to_start_without_a_sealing_key() -> None:
    with pytest.raises(ValueError, match="EMOQ_SECRET_KEY is required"):
        Settings(env="production", api_host="0.0.0.0")
    Settings(env="production", api_host="0.0.0.0", secret_key=Fernet.generate_key().decode())
    with pytest.raises(ValueError, match="not a Fernet key"):
        Settings(secret_key="not-a-key")
