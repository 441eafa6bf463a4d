"""Entry point of webhook workers and the scheduler: no model, no torch."""

from typing import Any

from celery.signals import celeryd_after_setup

from shared.broker import Queue, get_celery
from worker import recovery_tasks, signals, webhook_tasks

app = get_celery()


@celeryd_after_setup.connect
def _consume_maintenance(instance: Any, **_: Any) -> None:
    # Whatever --queues a webhook worker was started with, it also runs the scheduler's housekeeping
    # (reconciling jobs, retention): without a consumer those sweeps would pile up in the broker.
    instance.app.amqp.queues.select_add(Queue.MAINTENANCE.value)


__all__ = ["app", "recovery_tasks", "signals", "webhook_tasks"]
