"""Keeps the API and a worker running side by side for the embedded single-machine mode."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

log = logging.getLogger("emoq.supervisor")

# A safety net: each child stops in a second or two (a running job is handed back at its next window).
STOP_GRACE_SECONDS = 30
MAX_RESTART_DELAY = 30.0
HEALTHY_SECONDS = 60.0
PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """Run in the child before it starts: a supervisor that dies without stopping its children (SIGKILL)
    still stops them, which its process group no longer does (see `Supervisor._spawn`). Linux only."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """Runs each command as a child, restarts what dies, and stops them stage by stage.

    ``stop_order`` lists the stages: every child of a stage is asked to stop at once, and the next
    stage starts when they have all stopped (those that start work before those that do it)."""

    def __init__(self, commands: list[str], stop_order: Sequence[Sequence[str]] | None = None) -> None:
        self.commands = commands
        self.stop_order = stop_order or [commands]
        if sorted(c for stage in self.stop_order for c in stage) != sorted(commands):
            raise ValueError("stop_order must name every command once")
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.started_at: dict[str, float] = {}
        self.restarts: dict[str, int] = dict.fromkeys(commands, 0)
        self.stopping = False
        self.impatient = False

    def _spawn(self, command: str) -> None:
        # A child that ran for a while before dying is not crash-looping: start the back-off afresh.
        if time.monotonic() - self.started_at.get(command, 0.0) > HEALTHY_SECONDS:
            self.restarts[command] = 0
        self.restarts[command] += 1
        self.started_at[command] = time.monotonic()
        # Each child leads its own process group. A SIGTERM or Ctrl-C sent to the supervisor's group
        # (`timeout`, a terminal, many service managers) then reaches the supervisor alone, which stops
        # the children in order, each through its main process: a Celery worker's pool processes are
        # not signalled behind its back, and nothing is killed for not stopping in time.
        self.children[command] = subprocess.Popen(
            [sys.executable, "-m", "cli.main", command], process_group=0, preexec_fn=_stop_with_parent
        )

    def _stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping:
            # A second Ctrl-C (or SIGTERM) means now: what is still running is killed.
            log.warning("stopping now (%s again)", signal.Signals(signum).name)
            self.impatient = True
            return
        log.info("stopping (%s)", signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._stop_signal)
        signal.signal(signal.SIGTERM, self._stop_signal)
        for command in self.commands:
            self._spawn(command)
        next_start: dict[str, float] = {}
        while not self.stopping:
            # Short naps: a signal does not cut a sleep short, and a stop should start at once.
            time.sleep(0.1)
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
        started = time.monotonic()
        deadline = started + STOP_GRACE_SECONDS
        for stage in self.stop_order:
            children = {command: self.children[command] for command in stage}
            for child in children.values():
                if child.poll() is None:
                    child.terminate()
            for command, child in children.items():
                self._wait(command, child, deadline)
        log.info("stopped in %.1f s", time.monotonic() - started)
        return 0

    def _wait(self, command: str, child: subprocess.Popen[bytes], deadline: float) -> None:
        while child.poll() is None and not self.impatient and time.monotonic() < deadline:
            time.sleep(0.05)
        if child.poll() is None:
            if not self.impatient:
                log.warning("%s did not stop in time; killing it", command)
            with contextlib.suppress(ProcessLookupError):
                # The whole group: a Celery worker's pool processes go with it.
                os.killpg(child.pid, signal.SIGKILL)
        child.wait()
