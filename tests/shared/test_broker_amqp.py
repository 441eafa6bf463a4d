"""RabbitMQ as the broker, on the machine's server in a virtual host of its own: quorum queues whose
consumer timeout outlasts the longest job, and publisher confirms."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from amqp.exceptions import NotFound

from shared.broker import Queue, TaskName, create_celery
from shared.config import Settings
from tests.integration.stack import require_services
from tests.rabbitmq import Vhost

pytestmark = pytest.mark.integration


@pytest.fixture
def vhost() -> Iterator[Vhost]:
    require_services("RabbitMQ")
    host = Vhost()
    yield host
    host.delete()


def declared_queues(vhost: Vhost) -> dict[str, dict[str, object]]:
    listed = subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            vhost.name,
            "name",
            "type",
            "arguments",
            "--formatter",
            "json",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Arguments come as [name, type, value] triples.
    return {
        queue["name"]: {"type": queue["type"], **{name: value for name, _, value in queue["arguments"]}}
        for queue in json.loads(listed.stdout)
    }


def test_queues_are_quorum_queues_that_let_a_job_run_as_long_as_the_visibility_timeout(vhost: Vhost) -> None:
    settings = Settings(broker_url=vhost.url, broker_visibility_timeout=4 * 3600)
    app = create_celery(settings)

    app.send_task(TaskName.ANALYZE, args=["00"], queue=Queue.INFERENCE)
    app.send_task(TaskName.ANALYZE, args=["01"], queue=Queue.BULK)
    app.send_task(TaskName.DELIVER_WEBHOOK, args=["02"])

    queues = declared_queues(vhost)
    for name in (Queue.INFERENCE, Queue.BULK, Queue.WEBHOOKS):
        assert queues[name]["type"] == "quorum", queues[name]
        # RabbitMQ's default (30 minutes) would take the channel from a worker in the middle of a long job.
        assert queues[name]["x-consumer-timeout"] == 4 * 3600 * 1000, queues[name]


def test_publishing_waits_for_the_broker_to_confirm(vhost: Vhost) -> None:
    """With confirms, a message the broker refuses raises at once; without them it vanishes silently."""
    app = create_celery(Settings(broker_url=vhost.url))

    with app.connection_for_write() as connection, pytest.raises(NotFound):
        connection.Producer().publish(
            {}, exchange="no-such-exchange", routing_key="x", declare=[], retry=False
        )
