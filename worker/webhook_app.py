"""Entry point of webhook workers (deliveries and housekeeping) and the scheduler: no model, no torch.

``emoq webhooks`` consumes the ``webhooks`` and ``maintenance`` queues.
"""

from shared.broker import get_celery
from worker import recovery_tasks, signals, webhook_tasks

app = get_celery()

__all__ = ["app", "recovery_tasks", "signals", "webhook_tasks"]
