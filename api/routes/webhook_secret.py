"""The caller's own webhook signing secret: read it, rotate it. Another key's is never reachable."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import CallerDep, SessionDep, SettingsDep
from shared.config import Settings
from shared.errors import Conflict, InvalidRequest
from shared.models.base import utcnow
from shared.webhooks import secrets
from shared.webhooks.server_secret import rotate_development_secret, server_secret, uses_development_secret

router = APIRouter(prefix="/v1/webhook-secret", tags=["webhooks"])


class WebhookSecret(BaseModel):
    secret: str = Field(description="`whsec_…`: verify this key's webhooks with it (Standard Webhooks)")


class RotatedSecret(WebhookSecret):
    previous_valid_until: datetime | None = Field(
        description="Until then deliveries also carry a signature by the previous secret"
    )


@router.get("", summary="The webhook signing secret of the calling key")
def read_secret(session: SessionDep, caller: CallerDep, settings: SettingsDep) -> WebhookSecret:
    if caller.key_id is None:
        return WebhookSecret(secret=_server_secret(settings))
    return WebhookSecret(secret=secrets.secret_of(session, caller.key_id, settings))


@router.post(
    "/rotate", summary="Replace the calling key's webhook secret; the old one signs on for a grace period"
)
def rotate_secret(session: SessionDep, caller: CallerDep, settings: SettingsDep) -> RotatedSecret:
    if caller.key_id is None:
        if not uses_development_secret(settings):
            raise Conflict(
                "the server-wide secret comes from EMOQ_WEBHOOK_SECRET; change it there",
                code="secret_from_environment",
            )
        return RotatedSecret(secret=rotate_development_secret(settings), previous_valid_until=None)
    rotation = secrets.rotate_secret(session, caller.key_id, settings, at=utcnow())
    return RotatedSecret(secret=rotation.secret, previous_valid_until=rotation.previous_valid_until)


def _server_secret(settings: Settings) -> str:
    secret = server_secret(settings)
    if secret is None:
        raise InvalidRequest(
            "webhooks are not configured on this server (EMOQ_WEBHOOK_SECRET is unset)",
            code="webhooks_not_configured",
        )
    return secret
