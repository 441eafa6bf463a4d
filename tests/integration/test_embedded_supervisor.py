"""`emoq run`: one command serves everything, brings a dead worker back, and stops cleanly and quickly
however the stop signal arrives."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from shared.models import Job
from tests.audio_factory import write_tone
from tests.integration.conftest import STACK_ENV
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


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
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


def _to_the_group(supervisor: int) -> None:
    # `timeout`, a terminal's Ctrl-C and many supervisors signal the whole process group.
    os.killpg(supervisor, signal.SIGTERM)


def _to_the_supervisor(supervisor: int) -> None:
    os.kill(supervisor, signal.SIGTERM)


@pytest.mark.parametrize("send", [_to_the_group, _to_the_supervisor])
def test_sigterm_stops_everything_cleanly_and_hands_the_running_job_back(
    tmp_path: Path, tiny_model: Path, send: Callable[[int], None]
) -> None:
    env = {
        **STACK_ENV,
        # Long enough to be still running when the workers stop, with STACK_ENV's tiny windows.
        "EMOQ_MAX_AUDIO_SECONDS": "60",
        "EMOQ_DATA_DIR": str(tmp_path / "var"),
        "EMOQ_MODEL": str(tiny_model),
        "EMOQ_WORKER_METRICS_PORT": "0",
        "EMOQ_WEBHOOKS_METRICS_PORT": "0",
        "EMOQ_TRAINING_METRICS_PORT": "0",
    }
    stack = Stack(tmp_path, env)
    stack.start("emoq-run", "run", own_group=True)
    supervisor = stack.processes["emoq-run"]
    log = tmp_path / "emoq-run.log"
    try:
        stack.wait_ready()
        # Every pool process has its model before the stop, so any load after it is one the stop caused.
        deadline = time.monotonic() + 90
        while log.read_text().count('"msg": "model loaded"') < int(env["EMOQ_WORKER_CONCURRENCY"]):
            assert time.monotonic() < deadline, stack.logs()
            time.sleep(0.2)
        job_id = stack.submit(write_tone(tmp_path / "long.wav", fmt="wav", seconds=30.0)).json()["id"]
        stack.wait_for(job_id, {"processing"})
        served = descendants(supervisor.pid)
        mark = log.stat().st_size

        send(supervisor.pid)
        returncode = supervisor.wait(timeout=60)  # a guard against a hang, not the measure: see benchmarks/
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
        stack.processes.clear()
        stack.close()

    stopping = [json.loads(line) for line in log.read_text()[mark:].splitlines() if line.startswith("{")]
    messages = [line["msg"] for line in stopping]
    assert returncode == 0, stack.logs()
    assert not [m for m in messages if "did not stop in time" in m], messages
    # Neither a pool process forked while stopping nor a job taken from the queue then loads the model.
    assert "model loaded" not in messages
    assert "job handed back to the queue" in messages
    assert not [pid for pid in served if alive(pid)]
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'emoq.db'}")
    with engine.connect() as connection:
        job = connection.execute(select(Job.status, Job.progress).where(Job.id == uuid.UUID(job_id))).one()
    engine.dispose()
    assert (job.status, job.progress) == ("queued", 0.0)
