"""Per-process set-up for every worker kind. Prefork children inherit the parent's sockets, so each
one opens its own database connections."""

from __future__ import annotations

from typing import Any

from celery.signals import setup_logging, worker_process_init

from shared.db import reset_engine
from shared.logs import configure_logging


@setup_logging.connect
def _logging(**_: Any) -> None:
    configure_logging()


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    reset_engine()
