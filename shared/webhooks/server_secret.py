"""The server-wide webhook secret: signs the events of jobs made with auth disabled.

``EMOQ_WEBHOOK_SECRET`` when set. Otherwise, in loopback development (``make run``) only, a secret made
once and kept in ``<data dir>/webhook-secret``, so webhooks work out of the box; ``emoq run`` prints it
as it starts and ``emoq webhooks secret`` prints or rotates it. Nothing logs it.
"""

from __future__ import annotations

from pathlib import Path

from shared.config import Settings
from shared.errors import InvalidRequest
from shared.secret_files import read_or_create, replace_value
from shared.webhooks.signing import new_secret


class WebhooksNotConfigured(InvalidRequest):
    code = "webhooks_not_configured"

    def __init__(self) -> None:
        super().__init__("webhooks are not configured on this server (EMOQ_WEBHOOK_SECRET is unset)")


def development_secret_path(settings: Settings) -> Path:
    return settings.data_dir / "webhook-secret"


def uses_development_secret(settings: Settings) -> bool:
    return settings.webhook_secret is None and settings.loopback_development


def server_secret(settings: Settings) -> str | None:
    """The secret, or None when webhooks without an owner cannot be signed here."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    if uses_development_secret(settings):
        return development_secret(settings)[0]
    return None


def require_server_secret(settings: Settings) -> str:
    secret = server_secret(settings)
    if secret is None:
        raise WebhooksNotConfigured()
    return secret


def development_secret(settings: Settings) -> tuple[str, bool]:
    """The development secret and whether it was made just now. Read from its file every time, so a
    rotation by the command line reaches the running workers at once."""
    return read_or_create(development_secret_path(settings), new_secret)


def rotate_development_secret(settings: Settings) -> str:
    secret = new_secret()
    replace_value(development_secret_path(settings), secret)
    return secret
