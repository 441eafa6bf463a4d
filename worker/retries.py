"""Transient failures (the database or storage away) retry with Celery's own capped, jittered backoff."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shared.config import get_settings
from shared.db import is_transient

log = logging.getLogger(__name__)


class TransientFailure(Exception):
    """What `retrying_transient_failures` turns a transient error into, so Celery's autoretry sees it."""


def transient_retry_options() -> dict[str, Any]:
    """Task options: 2, 4, 8 … s (at most 5 min), each drawn at random below that (full jitter), so
    workers that lost the database together do not come back in step."""
    return {
        "autoretry_for": (TransientFailure,),
        "retry_backoff": 2,
        "retry_backoff_max": 300,
        "retry_jitter": True,
        "retry_kwargs": {"max_retries": get_settings().task_max_retries},
    }


@contextmanager
def retrying_transient_failures() -> Iterator[None]:
    # Which errors are transient is a predicate over the exception (a 503 EmoQError is, a 422 is not), not
    # a list of classes that autoretry_for could name, hence the translation.
    try:
        yield
    except Exception as exc:
        if is_transient(exc):
            log.warning("transient failure, retrying", extra={"error": type(exc).__name__})
            raise TransientFailure(f"{type(exc).__name__}: {exc}") from exc
        raise
