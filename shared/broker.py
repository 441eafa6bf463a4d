"""The Celery app both sides share: the API sends tasks by name, workers register and run them."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from celery import Celery
from kombu import Exchange
from kombu import Queue as KombuQueue

from shared.catalog.names import DEFAULT_NAME
from shared.config import Settings, get_settings


class Queue(StrEnum):
    INFERENCE = "inference"  # single jobs
    BULK = "bulk"  # jobs of batches: workers alternate queues, so a big batch never starves single jobs
    WEBHOOKS = "webhooks"  # deliveries, on their own workers: a slow receiver never holds up inference
    MAINTENANCE = "maintenance"  # housekeeping sent by the scheduler, run by the webhook workers
    TRAINING = "training"  # trainings, on workers that only train, so inference is never starved


def analysis_queue(model: str, *, bulk: bool) -> str:
    """Each model has its own pair of queues, so a worker takes only jobs for the models it has loaded.
    The model named ``default`` (``EMOQ_MODELS`` unset) keeps the plain names of single-model versions."""
    family = Queue.BULK if bulk else Queue.INFERENCE
    return family.value if model == DEFAULT_NAME else f"{family.value}.{model}"


def analysis_queues(models: list[str]) -> list[str]:
    """Every queue of these models: for each, single jobs first, then batches."""
    return [analysis_queue(model, bulk=bulk) for model in models for bulk in (False, True)]


def all_queues(settings: Settings) -> list[str]:
    """Every queue the service uses with these settings."""
    return [
        *analysis_queues(settings.model_names),
        Queue.WEBHOOKS.value,
        Queue.MAINTENANCE.value,
        Queue.TRAINING.value,
    ]


class TaskName(StrEnum):
    ANALYZE = "jobs.analyze"
    DELIVER_WEBHOOK = "webhooks.deliver"
    DISPATCH_DUE_WEBHOOKS = "webhooks.dispatch_due"
    RECONCILE_JOBS = "jobs.reconcile"
    PURGE_EXPIRED = "retention.purge_expired"
    TRAIN = "trainings.train"


def uses_filesystem_transport(settings: Settings) -> bool:
    return settings.broker_url.startswith("filesystem://")


def uses_amqp(settings: Settings) -> bool:
    return settings.broker_url.startswith(("amqp://", "amqps://", "pyamqp://"))


def amqp_queues(settings: Settings) -> list[KombuQueue]:
    """RabbitMQ's queues, declared as production wants them.

    Quorum queues are replicated and survive the loss of a node. RabbitMQ takes a channel away from a
    consumer that holds a message unacknowledged longer than its consumer timeout (30 minutes by default);
    with ``acks_late`` a long job holds its message for as long as it runs, so the timeout is raised to the
    same bound as Redis's visibility timeout (RabbitMQ 3.12 and later honour the queue argument; older
    servers need ``consumer_timeout`` in rabbitmq.conf, docs/scaling.md).
    """
    arguments = {"x-queue-type": "quorum", "x-consumer-timeout": settings.broker_visibility_timeout * 1000}
    return [
        # Topic exchanges: Celery routes countdowns (retry backoff) through RabbitMQ's delayed delivery then.
        KombuQueue(name, Exchange(name, type="topic"), routing_key=name, queue_arguments=arguments)
        for name in all_queues(settings)
    ]


def broker_transport_options(settings: Settings) -> dict[str, object]:
    if uses_filesystem_transport(settings):
        folder = settings.broker_dir.resolve()
        for sub in ("queue", "staging", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "control_folder": str(folder / "control"),
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "staging_folder": str(folder / "staging"),
            "processed_folder": str(folder / "processed"),
            # The default of one poll a second would cap a worker at about one job a second.
            "polling_interval": 0.05,
        }
    if uses_amqp(settings):
        # Publisher confirms: a task counts as sent only once RabbitMQ has taken responsibility for it.
        return {"confirm_publish": True}
    return {
        # Unacked messages come back after this long: it must exceed the longest job.
        "visibility_timeout": settings.broker_visibility_timeout,
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
    }


def create_celery(settings: Settings) -> Celery:
    app = Celery("emoq", broker=settings.broker_url)
    app.conf.update(
        # kombu's own filesystem transport lets a reader take a message before it is fully written.
        broker_transport="shared.filesystem_transport:Transport"
        if uses_filesystem_transport(settings)
        else None,
        broker_transport_options=broker_transport_options(settings),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=Queue.INFERENCE.value,
        task_queues=amqp_queues(settings) if uses_amqp(settings) else None,
        task_routes={
            TaskName.ANALYZE.value: {"queue": Queue.INFERENCE.value},
            TaskName.DELIVER_WEBHOOK.value: {"queue": Queue.WEBHOOKS.value},
            TaskName.DISPATCH_DUE_WEBHOOKS.value: {"queue": Queue.WEBHOOKS.value},
            TaskName.RECONCILE_JOBS.value: {"queue": Queue.MAINTENANCE.value},
            TaskName.PURGE_EXPIRED.value: {"queue": Queue.MAINTENANCE.value},
            TaskName.TRAIN.value: {"queue": Queue.TRAINING.value},
        },
        # The scheduler (celery beat) sends what is due; the database says what is due.
        beat_schedule={
            "dispatch-due-webhooks": {
                "task": TaskName.DISPATCH_DUE_WEBHOOKS.value,
                "schedule": settings.scheduler_interval_seconds,
            },
            "reconcile-jobs": {
                "task": TaskName.RECONCILE_JOBS.value,
                "schedule": settings.reconcile_interval_seconds,
            },
            "purge-expired": {"task": TaskName.PURGE_EXPIRED.value, "schedule": 300.0},
        },
        task_publish_retry_policy={"max_retries": 3, "interval_start": 0, "interval_step": 0.5},
        worker_hijack_root_logger=False,
        enable_utc=True,
        # The filesystem transport has no broadcast channel for remote control.
        worker_enable_remote_control=not uses_filesystem_transport(settings),
    )
    return app


@lru_cache
def get_celery() -> Celery:
    return create_celery(get_settings())
