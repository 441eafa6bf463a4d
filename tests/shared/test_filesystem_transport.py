"""The embedded default's broker hands out whole messages only, each to one consumer.

Consumers are separate processes, as workers are: threads would take turns on the GIL with the sender
and never catch a message mid-write.
"""

from __future__ import annotations

import json
import subprocess
import sys
from queue import Empty

import pytest

from shared.broker import get_celery
from shared.config import Settings
from shared.filesystem_transport import BUSY_POLLING_SECONDS

CONSUMERS = 2
MESSAGES = 300
BODY = {"audio": "x" * 200_000}  # large, so that writing one takes long enough to be caught halfway

# Counts whole and undecodable messages until it takes a "stop".
CONSUMER = """
import json
from queue import Empty
from shared.broker import get_celery

counts = {"whole": 0, "broken": 0}
with get_celery().connection_for_read() as connection, connection.SimpleQueue("race") as queue:
    while True:
        try:
            message = queue.get(block=False)
        except Empty:
            continue
        except ValueError:
            counts["broken"] += 1
            continue
        message.ack()
        if message.payload == "stop":
            break
        counts["whole"] += message.payload == {"audio": "x" * 200_000}
print(json.dumps(counts))
"""


def test_consumers_polling_while_messages_are_sent_get_each_one_whole_and_once(embedded: Settings) -> None:
    consumers = [
        subprocess.Popen([sys.executable, "-c", CONSUMER], stdout=subprocess.PIPE, text=True)
        for _ in range(CONSUMERS)
    ]
    with get_celery().connection_for_write() as connection, connection.SimpleQueue("race") as queue:
        for _ in range(MESSAGES):
            queue.put(BODY)
        for _ in consumers:
            queue.put("stop")
    counts = [json.loads(consumer.communicate(timeout=120)[0]) for consumer in consumers]

    assert sum(c["broken"] for c in counts) == 0
    assert sum(c["whole"] for c in counts) == MESSAGES
    assert not list((embedded.broker_dir / "staging").iterdir())


def test_a_consumer_polls_often_while_messages_flow_and_at_the_configured_pace_once_idle(
    embedded: Settings,
) -> None:
    with get_celery().connection_for_write() as connection, connection.SimpleQueue("pace") as queue:
        transport = connection.transport
        idle = transport.polling_interval
        assert idle > BUSY_POLLING_SECONDS

        queue.put("first")
        queue.get(timeout=5).ack()
        assert transport.polling_interval == BUSY_POLLING_SECONDS

        with pytest.raises(Empty):
            queue.get(timeout=0.3)
        assert transport.polling_interval == idle
