"""Keeps the API and a worker running side by side for the embedded single-machine mode."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from types import FrameType

log = logging.getLogger("emoq.supervisor")

STOP_GRACE_SECONDS = 30
MAX_RESTART_DELAY = 30.0
HEALTHY_SECONDS = 60.0


class Supervisor:
    def __init__(self, commands: list[str]) -> None:
        self.commands = commands
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.started_at: dict[str, float] = {}
        self.restarts: dict[str, int] = dict.fromkeys(commands, 0)
        self.stopping = False

    def _spawn(self, command: str) -> None:
        # A child that ran for a while before dying is not crash-looping: start the back-off afresh.
        if time.monotonic() - self.started_at.get(command, 0.0) > HEALTHY_SECONDS:
            self.restarts[command] = 0
        self.restarts[command] += 1
        self.started_at[command] = time.monotonic()
        self.children[command] = subprocess.Popen([sys.executable, "-m", "cli.main", command])

    def _stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("stopping (%s)", signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._stop_signal)
        signal.signal(signal.SIGTERM, self._stop_signal)
        for command in self.commands:
            self._spawn(command)
        next_start: dict[str, float] = {}
        while not self.stopping:
            time.sleep(0.5)
            for command, child in list(self.children.items()):
                if child.poll() is None or self.stopping:
                    continue
                if command not in next_start:
                    # Back off when a child keeps dying, so a broken setup does not spin.
                    delay = min(2.0 ** (self.restarts[command] - 1), MAX_RESTART_DELAY)
                    log.warning("%s exited with %s; restarting in %.0f s", command, child.returncode, delay)
                    next_start[command] = time.monotonic() + delay
                elif time.monotonic() >= next_start[command]:
                    del next_start[command]
                    self._spawn(command)
        return self._stop_all()

    def _stop_all(self) -> int:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for command, child in self.children.items():
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", command)
                child.kill()
                child.wait()
        return 0
