"""`emoq run` on one machine: the inference and training workers run at a lower CPU priority than the
API, so a request is answered at once while they compute (EMOQ_WORKER_NICE)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.integration.stack import Stack, free_port

pytestmark = pytest.mark.integration


def descendants(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [grand for child in map(int, children) for grand in (child, *descendants(child))]


def priorities(root: int) -> dict[str, list[int]]:
    """The nice value of every process under ``root``, by the `emoq` command it runs (a Celery worker's
    pool processes, forked from it, run the same command)."""
    found: dict[str, list[int]] = {}
    for pid in descendants(root):
        try:
            words = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
            nice = os.getpriority(os.PRIO_PROCESS, pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        if "cli.main" in words:
            found.setdefault(words[words.index("cli.main") + 1], []).append(nice)
    return found


@pytest.mark.parametrize("setting", [None, "3"])
def test_workers_that_compute_yield_the_cpu_to_the_api(
    setting: str | None, tmp_path: Path, tiny_model: Path
) -> None:
    env = {
        "EMOQ_DATA_DIR": str(tmp_path / "var"),
        "EMOQ_MODEL": str(tiny_model),
        "EMOQ_WORKER_CONCURRENCY": "2",
        "EMOQ_METRICS_PORT": str(free_port()),
        "EMOQ_WORKER_METRICS_PORT": str(free_port()),
        "EMOQ_WEBHOOKS_METRICS_PORT": str(free_port()),
        "EMOQ_TRAINING_METRICS_PORT": str(free_port()),
    }
    if setting is not None:
        env["EMOQ_WORKER_NICE"] = setting
    stack = Stack(tmp_path, env)
    try:
        stack.start("emoq-run", "run")
        stack.wait_ready()
        root = stack.processes["emoq-run"].pid
        deadline = time.monotonic() + 60
        # Both workers that compute with their pools: two inference processes, one training process.
        while time.monotonic() < deadline:
            found = priorities(root)
            if len(found.get("worker", ())) == 3 and len(found.get("trainer", ())) == 2:
                break
            time.sleep(0.2)
    finally:
        stack.close()

    ours = os.getpriority(os.PRIO_PROCESS, 0)
    lowered = min(19, ours + int(setting or 10))
    assert {name: set(values) for name, values in found.items()} == {
        "api": {ours},
        "webhooks": {ours},
        "scheduler": {ours},
        "worker": {lowered},
        "trainer": {lowered},
    }, found
    assert len(found["worker"]) == 3 and len(found["trainer"]) == 2, found
