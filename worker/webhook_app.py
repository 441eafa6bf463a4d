"""Entry point of webhook workers and the scheduler: no model, no torch."""

from shared.broker import get_celery
from worker import signals, webhook_tasks

app = get_celery()

__all__ = ["app", "signals", "webhook_tasks"]
