from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from shared.broker import create_celery
from shared.config import Settings
from tests.bad_audio import MAX_AUDIO_SECONDS_FOR_BAD_UPLOADS
from tests.integration.stack import (
    REDIS_URL,
    Stack,
    create_database,
    drop_database,
    flush_redis,
    free_port,
    require_services,
)
from tests.rabbitmq import Vhost
from tests.s3_server import MotoServer
from tests.webhook_receiver import WebhookReceiver

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"emoq-integration-tests-secret!!").decode()

# Tiny windows and one window per forward pass make a 9 s clip take seconds with the tiny model,
# long enough to cancel it or deliver it twice while it runs.
STACK_ENV = {
    # Served as `make run` serves, on 127.0.0.1 without API keys; tests/api covers access control.
    "EMOQ_AUTH_DISABLED": "true",
    "EMOQ_WINDOW_SECONDS": "0.02",
    "EMOQ_INFERENCE_BATCH_SIZE": "1",
    "EMOQ_WORKER_CONCURRENCY": "2",
    "EMOQ_JOB_LEASE_SECONDS": "5",
    "EMOQ_MAX_AUDIO_SECONDS": str(MAX_AUDIO_SECONDS_FOR_BAD_UPLOADS),
    "EMOQ_LOG_FORMAT": "json",
    "EMOQ_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "EMOQ_WEBHOOK_RETRY_SCHEDULE": "1,1,2,2",
    "EMOQ_WEBHOOK_TIMEOUT_SECONDS": "2",
    "EMOQ_SCHEDULER_INTERVAL_SECONDS": "0.5",
    "EMOQ_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
    # Far from the defaults, so results show that the worker reads them.
    "EMOQ_LOW_CONFIDENCE": "0.99",
    "EMOQ_EPISODE_MIN_SECONDS": "0.1",
}


class RunningService:
    def __init__(self, stack: Stack, database_url: str, settings: Settings) -> None:
        self.stack = stack
        self.engine: Engine = create_engine(database_url)
        self.settings = settings
        self.celery = create_celery(settings)


def settings_from(env: dict[str, str]) -> Settings:
    return Settings(**{k.removeprefix("EMOQ_").lower(): v for k, v in env.items()})


@contextmanager
def servers_env(layout: str, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The variables that point a stack at its servers: a fresh PostgreSQL database, and Redis, or a
    RabbitMQ virtual host with audio in a bucket of the S3 test server. Everything is removed after."""
    require_services("PostgreSQL", "RabbitMQ" if "rabbitmq" in layout else "Redis")
    database = create_database()
    env = {"EMOQ_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"}
    vhost = None
    try:
        if "rabbitmq" in layout:
            vhost = Vhost()
            s3: MotoServer = request.getfixturevalue("s3_server")
            env |= {"EMOQ_BROKER_URL": vhost.url, **s3.env(s3.new_bucket())}
        else:
            flush_redis()
            env["EMOQ_BROKER_URL"] = REDIS_URL
        yield env
    finally:
        drop_database(database)
        if vhost is not None:
            vhost.delete()
        else:
            flush_redis()


# embedded: `make run`; postgres+redis: the compose file; postgres+rabbitmq+s3: hosts with no shared disk.
LAYOUTS = ["embedded", "postgres+redis", "postgres+rabbitmq+s3"]


@pytest.fixture(scope="module", params=LAYOUTS)
def service(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tiny_model: Path,
    tiny_asr_model: Path,
) -> Iterator[RunningService]:
    root = tmp_path_factory.mktemp(f"stack-{request.param}")
    env = {
        **STACK_ENV,
        "EMOQ_DATA_DIR": str(root / "var"),
        "EMOQ_MODEL": str(tiny_model),
        # Loaded by a worker only when a job asks for a transcript.
        "EMOQ_ASR_MODEL": str(tiny_asr_model),
        "EMOQ_WORKER_METRICS_PORT": str(free_port()),
        "EMOQ_WEBHOOKS_METRICS_PORT": str(free_port()),
        "EMOQ_TRAINING_METRICS_PORT": str(free_port()),
        "EMOQ_METRICS_PORT": str(free_port()),
    }
    with ExitStack() as cleanup:
        if request.param != "embedded":
            env |= cleanup.enter_context(servers_env(request.param, request))
        settings = settings_from(env)
        stack = Stack(root, env)
        cleanup.callback(stack.close)
        if request.param == "embedded":
            stack.start("emoq-run", "run")
        else:
            stack.emoq("migrate")
            for command in ("api", "worker", "webhooks", "scheduler"):
                stack.start(command, command)
        stack.wait_ready()
        yield RunningService(stack, settings.database_url, settings)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver that checks signatures with the stacks' secret."""
    with WebhookReceiver(WEBHOOK_SECRET) as running:
        yield running
