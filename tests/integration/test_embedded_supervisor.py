"""`emoq run`: one command serves everything, brings a dead worker back, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.audio_factory import write_tone
from tests.integration.stack import Stack

pytestmark = pytest.mark.integration


def children(pid: int) -> dict[int, str]:
    """Direct children of a process with their command lines, from /proc."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(stat.parent.name)] = cmdline
        except (OSError, IndexError, ValueError):
            continue
    return found


def worker_pid(supervisor: int) -> int:
    [pid] = [pid for pid, cmd in children(supervisor).items() if cmd.rstrip().endswith("worker")]
    return pid


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_run_restarts_a_dead_worker_and_stops_on_ctrl_c(tmp_path: Path, tiny_model: Path) -> None:
    stack = Stack(tmp_path, {"EMOQ_DATA_DIR": str(tmp_path / "var"), "EMOQ_MODEL": str(tiny_model)})
    stack.start("emoq-run", "run")
    supervisor = stack.processes["emoq-run"]
    try:
        stack.wait_ready()
        first_worker = worker_pid(supervisor.pid)
        os.kill(first_worker, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            not any(c.rstrip().endswith("worker") for c in children(supervisor.pid).values())
            or worker_pid(supervisor.pid) == first_worker
        ):
            time.sleep(0.2)
        assert worker_pid(supervisor.pid) != first_worker, stack.logs()

        job = stack.submit(write_tone(tmp_path / "after-restart.wav", fmt="wav", seconds=1.0)).json()
        assert stack.wait_for(job["id"])["status"] == "succeeded"

        served = list(children(supervisor.pid))
        supervisor.send_signal(signal.SIGINT)
        assert supervisor.wait(timeout=45) == 0
        assert not [pid for pid in served if alive(pid)]
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        stack.processes.clear()
        stack.close()
