"""Two tenants, each with its own webhook secret, through a real EmoQ with API keys required: its API,
its inference worker and its webhook worker; embedded (`emoq run`) and on PostgreSQL and Redis with a
sealing key from EMOQ_SECRET_KEY."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.audio_factory import write_tone
from tests.integration.stack import (
    REDIS_URL,
    Stack,
    create_database,
    drop_database,
    flush_redis,
    free_port,
    require_services,
)
from tests.webhook_receiver import Received, WebhookReceiver

pytestmark = pytest.mark.integration
GRACE_SECONDS = 15


class Tenant:
    def __init__(self, key: str, secret: str) -> None:
        self.headers = {"Authorization": f"Bearer {key}"}
        self.secret = secret


def create_tenant(stack: Stack, name: str) -> Tenant:
    created = subprocess.run(
        [sys.executable, "-m", "cli.main", "keys", "create", "--name", name],
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    [secret] = [word for word in created.stderr.split() if word.startswith("whsec_")]
    return Tenant(created.stdout.strip(), secret)


def verifies(secret: str, request: Received) -> bool:
    try:
        Webhook(secret).verify(request.body, request.headers)
    except WebhookVerificationError:
        return False
    return True


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def keyed_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tiny_model: Path
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp(f"tenants-{request.param}")
    env = {
        "EMOQ_AUTH_DISABLED": "false",
        "EMOQ_DATA_DIR": str(root / "var"),
        "EMOQ_MODEL": str(tiny_model),
        "EMOQ_WINDOW_SECONDS": "0.1",
        "EMOQ_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
        "EMOQ_WEBHOOK_ROTATION_GRACE_SECONDS": str(GRACE_SECONDS),
        "EMOQ_WEBHOOK_RETRY_SCHEDULE": "1,1,2",
        "EMOQ_SCHEDULER_INTERVAL_SECONDS": "0.5",
        "EMOQ_WORKER_METRICS_PORT": str(free_port()),
        "EMOQ_WEBHOOKS_METRICS_PORT": str(free_port()),
        "EMOQ_METRICS_PORT": str(free_port()),
    }
    database = None
    if request.param == "postgres":
        require_services()
        database = create_database()
        flush_redis()
        env |= {
            "EMOQ_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
            "EMOQ_BROKER_URL": REDIS_URL,
            "EMOQ_SECRET_KEY": Fernet.generate_key().decode(),
        }
    stack = Stack(root, env)
    for name in [name for name in os.environ if name.startswith("EMOQ_") and name not in env]:
        stack.env.pop(name, None)
    try:
        stack.emoq("migrate")
        if request.param == "embedded":
            stack.start("emoq-run", "run")
        else:
            for command in ("api", "worker", "webhooks", "scheduler"):
                stack.start(command, command)
        yield stack
    finally:
        stack.close()
        if database is not None:
            drop_database(database)
            flush_redis()


def test_each_tenant_verifies_only_its_own_webhooks_and_rotation_has_a_grace_period(
    keyed_stack: Stack, tmp_path: Path
) -> None:
    stack = keyed_stack
    alice, bob = create_tenant(stack, "alice"), create_tenant(stack, "bob")
    stack.client.headers.update(alice.headers)  # wait_ready reads /v1/models, which needs a key
    stack.wait_ready()
    clip = write_tone(tmp_path / "a.wav", fmt="wav", seconds=0.5)

    with WebhookReceiver() as receiver:

        def submit_and_receive(path: str) -> tuple[str, Received]:
            with clip.open("rb") as audio:
                answer = stack.client.post(
                    "/v1/jobs",
                    files={"file": ("a.wav", audio)},
                    data={"webhook_url": receiver.url(path)},
                    headers=alice.headers,
                )
            assert answer.status_code == 202, answer.text
            [request] = receiver.wait_for(1, path=path, timeout=60)
            return answer.json()["id"], request

        _, first = submit_and_receive("/first")
        assert verifies(alice.secret, first)
        assert not verifies(bob.secret, first)

        # Bob reads his own secret, never Alice's; nor anything of her job.
        bobs = stack.client.get("/v1/webhook-secret", headers=bob.headers)
        assert bobs.json() == {"secret": bob.secret} and alice.secret not in bobs.text
        alices = stack.client.get("/v1/webhook-secret", headers=alice.headers).json()
        assert alices == {"secret": alice.secret}

        rotated = stack.client.post("/v1/webhook-secret/rotate", headers=alice.headers).json()
        new_secret, grace_ends = rotated["secret"], datetime.fromisoformat(rotated["previous_valid_until"])
        job_id, during = submit_and_receive("/during")
        assert int(during.headers["webhook-timestamp"]) < grace_ends.timestamp(), "delivered after the grace"
        assert verifies(new_secret, during) and verifies(alice.secret, during)
        assert len(during.headers["webhook-signature"].split(" ")) == 2

        time.sleep(max(0.0, grace_ends.timestamp() - time.time()) + 1)
        assert stack.client.post(f"/v1/jobs/{job_id}/deliveries", headers=alice.headers).status_code == 202
        [_, after] = receiver.wait_for(2, path="/during", timeout=60)
        assert verifies(new_secret, after) and not verifies(alice.secret, after)
        assert not verifies(bob.secret, after)
        assert stack.client.get(f"/v1/jobs/{job_id}/deliveries", headers=bob.headers).status_code == 404
