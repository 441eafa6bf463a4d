"""Standard Webhooks signing: the headers that let a receiver check who sent a body, and when."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

USER_AGENT = "EmoQ-Webhooks/1.0"
SECRET_BYTES = 32


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_id(event_id: uuid.UUID) -> str:
    """The ``webhook-id``: one per event, the same on every retry, so receivers can drop duplicates."""
    return f"msg_{event_id.hex}"


def encode_body(payload: dict[str, Any]) -> str:
    """The bytes sent and signed. Sorted keys and fixed separators: the same payload, the same body,
    whichever database returned it."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signed_headers(secrets: Sequence[str], *, msg_id: str, body: str, sent_at: datetime) -> dict[str, str]:
    """Signed at each attempt: receivers reject timestamps older than a few minutes.

    One signature per secret, space-separated as the spec allows: during a rotation a receiver that
    still holds the previous secret and one that holds the new one both verify the same request.
    """
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(msg_id, sent_at, body) for secret in secrets),
    }
