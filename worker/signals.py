"""Per-process set-up. Prefork children inherit the parent's sockets, so each one starts afresh."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import setup_logging, worker_process_init

from shared.db import reset_engine
from shared.logs import configure_logging
from worker.runtime import get_classifier

log = logging.getLogger(__name__)


@setup_logging.connect
def _logging(**_: Any) -> None:
    configure_logging()


@worker_process_init.connect
def _init_process(**_: Any) -> None:
    reset_engine()
    try:
        get_classifier()
    except Exception:
        # Jobs stay queued and the task retries the load; the log says why nothing is being served.
        log.exception("could not load the model")
