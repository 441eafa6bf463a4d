"""Entry point of inference workers: ``celery -A worker.celery_app`` (what ``emoq worker`` runs)."""

from shared.broker import get_celery
from worker import signals, tasks

app = get_celery()

__all__ = ["app", "signals", "tasks"]
