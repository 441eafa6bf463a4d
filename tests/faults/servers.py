"""Private Redis and PostgreSQL servers on free ports, ours to kill, wipe and restart.

The machine's shared servers (5432, 6379) serve other people's tests: faults are never injected there.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.integration.stack import free_port


def require(binary: str | None, what: str) -> str:
    """A missing server binary skips these tests on a laptop; under CI it is a failure."""
    if binary is not None:
        return binary
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {what} is not installed")
    pytest.skip(f"{what} is not installed")


class PrivateRedis:
    """No persistence: a restart comes back empty, as a Redis whose data was lost."""

    def __init__(self, root: Path) -> None:
        self.binary = require(shutil.which("redis-server"), "redis-server")
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._wait(up=True)

    def kill(self) -> None:
        """SIGKILL: whatever it held is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        self._wait(up=False)

    def _wait(self, *, up: bool, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._answers_ping() is up:
                return
            time.sleep(0.05)
        raise AssertionError(f"private redis on {self.port} did not {'start' if up else 'stop'}")

    def _answers_ping(self) -> bool:
        # A bare socket: redis-py's client retries a refused connection for seconds before it gives up.
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    return require(found[-1] or None, f"PostgreSQL's {name}")


class PrivatePostgres:
    """A throwaway cluster, trust auth on 127.0.0.1, in its own folder under the system's temporary
    directory (pytest's are private to their user). initdb and pg_ctl refuse to run as root, so as root
    they run as the ``postgres`` user, which then owns that folder."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        self.root = Path(tempfile.mkdtemp(prefix="emoq-faults-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
        )
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres", "postgres")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run(
            self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"
        )
        self.start()

    def start(self) -> None:
        log = str(self.root / "postgres.log")
        self._run(self.pg_ctl, "-D", str(self.data), "-o", self.options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` drops every open connection at once, as a crash or a failover does to clients."""
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, chars: int = 3000) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _run(self, *args: str, check: bool = True) -> None:
        subprocess.run([*self.as_user, *args], check=check, capture_output=True, timeout=60)
