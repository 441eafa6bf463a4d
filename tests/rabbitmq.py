"""A RabbitMQ virtual host of its own for each stack, on the machine's server (127.0.0.1:5672, guest):
test runs side by side never share a queue, and deleting the host removes everything they declared."""

from __future__ import annotations

import subprocess
import uuid

AMQP_HOST = "127.0.0.1:5672"


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


class Vhost:
    def __init__(self) -> None:
        self.name = f"emoq_test_{uuid.uuid4().hex[:12]}"
        _rabbitmqctl("add_vhost", self.name)
        _rabbitmqctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")
        self.url = f"amqp://guest:guest@{AMQP_HOST}/{self.name}"

    def delete(self) -> None:
        _rabbitmqctl("delete_vhost", self.name)
