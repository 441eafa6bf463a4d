from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.harness import FAULT_ENV, FaultStack
from tests.faults.servers import PrivatePostgres, PrivateRedis
from tests.integration.stack import require_services
from tests.rabbitmq import Vhost
from tests.s3_server import MotoServer
from tests.webhook_receiver import WebhookReceiver

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"emoq-fault-tests-webhook-secret!").decode()

StackFactory = Callable[..., FaultStack]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PrivatePostgres]:
    """One private cluster for the fault suite; each stack gets its own database in it."""
    server = PrivatePostgres()
    try:
        server.init()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(params=["redis", "rabbitmq+s3"])
def layout(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Extra variables for make_stack: none (the private Redis, audio on the stack's disk), or a RabbitMQ
    virtual host with audio in an S3 bucket, the layout of hosts that share no disk."""
    if request.param == "redis":
        yield {}
        return
    require_services("RabbitMQ")
    s3: MotoServer = request.getfixturevalue("s3_server")
    vhost = Vhost()
    try:
        yield {"EMOQ_BROKER_URL": vhost.url, **s3.env(s3.new_bucket())}
    finally:
        vhost.delete()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(WEBHOOK_SECRET) as running:
        yield running


@pytest.fixture
def make_stack(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tiny_model: Path,
    postgres: PrivatePostgres,
    redis: PrivateRedis,
) -> Iterator[StackFactory]:
    """A migrated database and a stack on the private servers; nothing is started until the test says so.
    Every process is stopped at the end, and killed if it will not stop, whatever the test's outcome."""
    stacks: list[FaultStack] = []

    def make(**env: str) -> FaultStack:
        # Unique per run: parametrized tests share a prefix longer than the truncated name.
        name = re.sub(
            r"\W", "_", f"faults_{request.node.name[:32].lower()}_{len(stacks)}_{uuid.uuid4().hex[:6]}"
        )
        database_url = postgres.create_database(name)
        stack_env = {
            **FAULT_ENV,
            "EMOQ_DATA_DIR": str(tmp_path / "var"),
            "EMOQ_MODEL": str(tiny_model),
            "EMOQ_DATABASE_URL": database_url,
            "EMOQ_BROKER_URL": redis.url,
            "EMOQ_WEBHOOK_SECRET": WEBHOOK_SECRET,
            **env,
        }
        stack = FaultStack(tmp_path, stack_env, database_url)
        stacks.append(stack)
        stack.emoq("migrate")
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            stack.close()
