"""Each API key's own webhook signing secret: made, read, rotated, and chosen to sign its deliveries.

A tenant who verifies its webhooks holds only its own secret, so it cannot forge another tenant's
events. Secrets are sealed at rest (``shared.sealing``) and read back only to sign or to answer their
own key. Jobs made with auth disabled have no key and are signed with the server-wide secret.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shared.auth import repository as keys
from shared.config import Settings, get_settings
from shared.errors import Conflict, NotFound
from shared.models import ApiKey
from shared.sealing import reseal, seal, unseal
from shared.webhooks.server_secret import (
    require_server_secret,
    rotate_development_secret,
    server_secret,
    uses_development_secret,
)
from shared.webhooks.signing import new_secret


@dataclass(frozen=True)
class Rotation:
    secret: str
    previous_valid_until: datetime | None  # until then deliveries carry the previous signature too


def current_secret(session: Session, key: ApiKey, settings: Settings) -> str:
    """The key's secret; a key made before secrets existed gets its own now."""
    if key.webhook_secret is None:
        keys.set_webhook_secret(
            session,
            key.id,
            sealed=seal(new_secret(), settings),
            previous=None,
            rotated_at=None,
            only_if_unset=True,
        )
        session.refresh(key)
    assert key.webhook_secret is not None
    return unseal(key.webhook_secret, settings)


def secret_of(session: Session, key_id: uuid.UUID | None, settings: Settings) -> str:
    """What signs the caller's webhooks: its key's secret, or without a key the server-wide one."""
    if key_id is None:
        return require_server_secret(settings)
    return current_secret(session, _existing(session, key_id), settings)


def rotate_secret(
    session: Session, key_id: uuid.UUID | None, settings: Settings, *, at: datetime
) -> Rotation:
    """A new secret from now on; the current one keeps signing beside it for the grace period. Without a
    key, the development secret is replaced at once (one local user, nobody to keep in step)."""
    if key_id is None:
        if not uses_development_secret(settings):
            raise Conflict(
                "the server-wide secret comes from EMOQ_WEBHOOK_SECRET; change it there",
                code="secret_from_environment",
            )
        return Rotation(rotate_development_secret(settings), None)
    key = _existing(session, key_id)
    previous = key.webhook_secret
    secret = new_secret()
    keys.set_webhook_secret(session, key.id, sealed=seal(secret, settings), previous=previous, rotated_at=at)
    session.refresh(key)
    grace = timedelta(seconds=settings.webhook_rotation_grace_seconds)
    return Rotation(secret, at + grace if previous is not None and grace else None)


def signing_secrets(
    session: Session, owner_key_id: uuid.UUID | None, settings: Settings, *, at: datetime
) -> list[str]:
    """The secrets a delivery is signed with, newest first; empty when none can sign it."""
    if owner_key_id is None:
        secret = server_secret(settings)
        return [secret] if secret is not None else []
    key = keys.by_id(session, owner_key_id)
    if key is None:
        return []
    secrets = [current_secret(session, key, settings)]
    if _previous_still_signs(key, settings, at):
        assert key.previous_webhook_secret is not None
        secrets.append(unseal(key.previous_webhook_secret, settings))
    return secrets


def reseal_all(session: Session) -> int:
    """Every stored secret sealed again under the newest sealing key; returns how many keys had one."""
    settings = get_settings()
    count = 0
    for key in keys.all_keys(session):
        if key.webhook_secret is None:
            continue
        keys.set_webhook_secret(
            session,
            key.id,
            sealed=reseal(key.webhook_secret, settings),
            previous=reseal(key.previous_webhook_secret, settings) if key.previous_webhook_secret else None,
            rotated_at=key.webhook_secret_rotated_at,
        )
        count += 1
    return count


def _existing(session: Session, key_id: uuid.UUID) -> ApiKey:
    key = keys.by_id(session, key_id)
    if key is None:
        raise NotFound("no API key with this id", code="api_key_not_found")
    return key


def _previous_still_signs(key: ApiKey, settings: Settings, at: datetime) -> bool:
    if key.previous_webhook_secret is None or key.webhook_secret_rotated_at is None:
        return False
    return at < key.webhook_secret_rotated_at + timedelta(seconds=settings.webhook_rotation_grace_seconds)
