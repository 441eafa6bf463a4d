"""The caller's own webhook signing secret: read it, rotate it. Another key's is never reachable."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import CallerDep, SessionDep, SettingsDep
from shared.models.base import utcnow
from shared.webhooks import secrets

router = APIRouter(prefix="/v1/webhook-secret", tags=["webhooks"])


class WebhookSecret(BaseModel):
    secret: str = Field(description="`whsec_…`: verify this key's webhooks with it (Standard Webhooks)")


class RotatedSecret(WebhookSecret):
    previous_valid_until: datetime | None = Field(
        description="Until then deliveries also carry a signature by the previous secret"
    )


@router.get("", summary="The webhook signing secret of the calling key")
def read_secret(session: SessionDep, caller: CallerDep, settings: SettingsDep) -> WebhookSecret:
    return WebhookSecret(secret=secrets.secret_of(session, caller.key_id, settings))


@router.post(
    "/rotate", summary="Replace the calling key's webhook secret; the old one signs on for a grace period"
)
def rotate_secret(session: SessionDep, caller: CallerDep, settings: SettingsDep) -> RotatedSecret:
    rotation = secrets.rotate_secret(session, caller.key_id, settings, at=utcnow())
    return RotatedSecret(secret=rotation.secret, previous_valid_until=rotation.previous_valid_until)
