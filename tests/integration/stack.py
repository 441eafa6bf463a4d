"""A running EmoQ, as separate processes started the way an operator starts them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

FINAL = {"succeeded", "failed", "cancelled"}
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
# The database these tests flush; TEST_REDIS_DB lets test runs side by side on one machine keep apart.
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('TEST_REDIS_DB', '15')}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVICE_PORTS = {"PostgreSQL": 5432, "Redis": 6379, "RabbitMQ": 5672}


def require_services(*names: str) -> None:
    """PostgreSQL, Redis and RabbitMQ run on this project's machines; elsewhere these tests skip, under CI
    they fail."""
    missing = [name for name in names or ("PostgreSQL", "Redis") if not _listening(SERVICE_PORTS[name])]
    if not missing:
        return
    message = f"{' and '.join(missing)} not reachable on 127.0.0.1"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


class Stack:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.port = free_port()
        # Like `make run`, keyless on 127.0.0.1 unless the stack's env says otherwise.
        self.env = {
            "EMOQ_AUTH_DISABLED": "true",
            **os.environ,
            **env,
            "EMOQ_API_PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def emoq(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "cli.main", *args], env=self.env, check=True, timeout=120)

    def start(self, name: str, *args: str, own_group: bool = False, **env: str) -> None:
        """``own_group`` makes the process lead a process group, as `timeout` or a service manager does;
        ``env`` adds to or overrides the stack's variables for this process alone."""
        log = (self.root / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args],
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0 if own_group else None,
        )

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        process = self.processes.pop(name)
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        self.client.close()

    def logs(self, tail: int | None = 4000) -> str:
        texts = (p.read_text(errors="replace") for p in sorted(self.root.glob("*.log")))
        return "\n".join(text[-tail:] if tail else text for text in texts)

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"EmoQ did not become ready\n{self.logs()}")

    def submit(self, path: Path, **fields: str) -> httpx.Response:
        with path.open("rb") as audio:
            return self.client.post("/v1/jobs", files={"file": (path.name, audio)}, data=fields)

    def job(self, job_id: str, **params: Any) -> dict[str, Any]:
        return self.client.get(f"/v1/jobs/{job_id}", params=params).json()

    def wait_for(self, job_id: str, statuses: set[str] = FINAL, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["status"] in statuses:
                return job
            time.sleep(0.02)
        raise AssertionError(f"job {job_id} stuck in {job['status']}\n{self.logs()}")


def create_database() -> str:
    import psycopg

    name = f"emoq_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
