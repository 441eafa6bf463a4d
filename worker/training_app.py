"""Entry point of training workers: ``emoq trainer`` consumes the ``training`` queue and nothing else, so a
long training never holds up inference, and an inference worker never loads the training code."""

from shared.broker import get_celery
from worker import signals, training_tasks

app = get_celery()

__all__ = ["app", "signals", "training_tasks"]
