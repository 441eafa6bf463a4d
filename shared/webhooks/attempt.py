"""One delivery attempt: sign the body, POST it through the SSRF guard, say what happened."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from shared.config import Settings
from shared.errors import EmoQError
from shared.models.base import utcnow
from shared.net import TooManyRedirects, open_response
from shared.net.guard import UrlNotAllowed, UrlUnresolvable
from shared.webhooks.signing import signed_headers, webhook_id

log = logging.getLogger(__name__)

# A POST to a receiver is not redirected: 301/302 would turn it into a bodiless GET, and a receiver
# that moved should be given the new URL. A redirect is a failed attempt that records its status.
MAX_REDIRECTS = 0
MAX_ERROR_CHARS = 500  # the width of webhook_attempts.error


@dataclass(frozen=True)
class AttemptResult:
    attempted_at: datetime
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    # The guard refused the destination: a rule, not a fault, so no retry can change it.
    refused: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks us to stop sending to this URL."""
        return self.status_code == 410


def post_event(
    event_id: uuid.UUID, url: str, body: str, secrets: Sequence[str], settings: Settings
) -> AttemptResult:
    """Never raises: every way an attempt can fail becomes a result that is recorded (and retried,
    unless the destination is refused)."""
    attempted_at = utcnow()
    usable = [secret for secret in secrets if _usable(secret)]
    if not usable:
        return AttemptResult(
            attempted_at, error="not sent: no valid whsec_ signing secret (EMOQ_WEBHOOK_SECRET is unset?)"
        )
    headers = signed_headers(usable, msg_id=webhook_id(event_id), body=body, sent_at=attempted_at)
    started = time.monotonic()
    status_code: int | None = None
    error: str | None = None
    refused = False
    try:
        with open_response(
            "POST",
            url,
            allowlist=settings.webhook_allowlist,
            timeout=settings.webhook_timeout_seconds,
            max_redirects=MAX_REDIRECTS,
            headers=headers,
            content=body.encode(),
        ) as response:
            # The receiver's body is not read: only the status counts, and it may be large or slow.
            status_code = response.status_code
    except TooManyRedirects as exc:
        status_code, error = exc.status_code, exc.message
    except UrlUnresolvable as exc:  # DNS may answer later
        error = exc.message
    except UrlNotAllowed as exc:
        error, refused = exc.message, True
    except EmoQError as exc:  # timed out, connection failed
        error = exc.message
    except Exception as exc:
        log.exception("unexpected error while delivering a webhook", extra={"event_id": str(event_id)})
        error = f"internal error ({type(exc).__name__})"
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    return AttemptResult(attempted_at, status_code, latency_ms, error and error[:MAX_ERROR_CHARS], refused)


def _usable(secret: str) -> bool:
    try:
        Webhook(secret)
    except (ValueError, EmptyWebhookSecretError):
        # Not base64 after whsec_: the library would fail on every attempt; say so once per attempt.
        return False
    return True
