"""Entry point for ``celery -A worker.celery_app``: the shared app with the worker's tasks and signals."""

from shared.broker import get_celery
from worker import signals, tasks

app = get_celery()

__all__ = ["app", "signals", "tasks"]
