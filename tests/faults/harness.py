"""A real EmoQ (``emoq api``, ``emoq worker``, ``emoq webhooks``, ``emoq scheduler``) on private servers,
with what fault tests need: kill a process group, find a worker's pool processes, count what ended."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, func, select

from shared.models import Job, JobResultRow, WebhookEvent
from tests.integration.stack import FINAL, Stack

# Tiny windows and one window per forward pass make clips take seconds with the tiny model; short leases,
# sweeps and requeue delays make recovery take seconds too.
FAULT_ENV = {
    "EMOQ_AUTH_DISABLED": "true",
    "EMOQ_WINDOW_SECONDS": "0.02",
    "EMOQ_INFERENCE_BATCH_SIZE": "1",
    "EMOQ_WORKER_CONCURRENCY": "1",
    "EMOQ_TORCH_THREADS": "1",  # one thread per job: on a shared, busy machine more threads only contend
    "EMOQ_WEBHOOK_CONCURRENCY": "1",
    "EMOQ_JOB_LEASE_SECONDS": "5",
    "EMOQ_RECONCILE_INTERVAL_SECONDS": "1",
    "EMOQ_REQUEUE_AFTER_SECONDS": "3",
    "EMOQ_MAX_ATTEMPTS": "3",
    "EMOQ_SCHEDULER_INTERVAL_SECONDS": "1",
    "EMOQ_WEBHOOK_RETRY_SCHEDULE": "1,1,2,2",
    "EMOQ_WEBHOOK_TIMEOUT_SECONDS": "2",
    "EMOQ_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
    "EMOQ_LOG_FORMAT": "json",
}


class FaultStack(Stack):
    """Each process leads its own process group, so a kill reaches its pool processes too, and nothing
    outlives the test however it ends."""

    def __init__(self, root: Path, env: dict[str, str], database_url: str) -> None:
        super().__init__(root, env)
        self.engine: Engine = create_engine(database_url, pool_pre_ping=True)
        self.generations: Counter[str] = Counter()

    def start(self, name: str, *args: str, preexec: Callable[[], None] | None = None) -> None:
        """``preexec`` runs in the child before it starts, e.g. to set a resource limit."""
        self.generations[name] += 1
        log = (self.root / f"{name}-{self.generations[name]}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *(args or (name,))],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec,
        )

    def start_all(self, *names: str) -> None:
        for name in names:
            self.start(name)

    def kill(self, name: str) -> None:
        """SIGKILL to the whole group: the machine lost the process, with whatever it was running."""
        process = self.processes.pop(name)
        _killpg(process.pid, signal.SIGKILL)
        process.wait()

    def close(self) -> None:
        """SIGKILL to every process group: a stack on throwaway servers needs no graceful stop, and the
        suite's time goes to the faults rather than to shutdowns."""
        for process in self.processes.values():
            _killpg(process.pid, signal.SIGKILL)
        for process in self.processes.values():
            process.wait()
        self.processes.clear()
        self.client.close()
        self.engine.dispose()

    def pool_processes(self, name: str) -> list[int]:
        """The prefork children of a worker: the processes that run its jobs."""
        pid = self.processes[name].pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            return []
        return [int(child) for child in children]

    def wait_api(self, timeout: float = 60) -> None:
        """Until the API reaches the database and the broker (no worker needed, so no model served yet)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                checks = self.client.get("/readyz").json()["checks"]
                if checks["database"] == checks["broker"] == "ok":
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the API did not become ready\n{self.logs()}")

    def statuses(self, job_ids: list[str]) -> dict[str, dict[str, Any]]:
        ids = [uuid.UUID(job_id) for job_id in job_ids]
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(Job.id, Job.status, Job.error_code, Job.attempts).where(Job.id.in_(ids))
            )
            return {
                str(r.id): {"status": r.status, "error_code": r.error_code, "attempts": r.attempts}
                for r in rows
            }

    def wait_all_final(self, job_ids: list[str], timeout: float) -> float:
        """Seconds until every job has ended, read straight from the database."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            statuses = self.statuses(job_ids)
            if len(statuses) == len(job_ids) and all(s["status"] in FINAL for s in statuses.values()):
                return time.monotonic() - started
            time.sleep(0.25)
        pending = {k: v for k, v in self.statuses(job_ids).items() if v["status"] not in FINAL}
        raise AssertionError(f"{len(pending)} jobs never ended: {pending}\n{self.logs()}")

    def logged(self, message: str) -> list[dict[str, Any]]:
        """Every JSON log line of every process with this message."""
        entries = []
        for path in sorted(self.root.glob("*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{") and message in line and (entry := json.loads(line))["msg"] == message:
                    entries.append(entry)
        return entries

    def logs(self, tail: int | None = 3000) -> str:
        return "\n".join(
            f"--- {path.name}\n{text[-tail:] if tail else text}"
            for path in sorted(self.root.glob("*.log"))
            if (text := path.read_text(errors="replace"))
        )


def _killpg(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


@dataclass(frozen=True)
class Endings:
    """How the jobs ended, as the database records it."""

    statuses: Counter[str]
    result_rows: int
    jobs_with_results: int
    end_events: Counter[str]  # job id -> job.* webhook events recorded

    @property
    def ended_once(self) -> bool:
        return all(count == 1 for count in self.end_events.values())


def endings(engine: Engine, job_ids: list[str]) -> Endings:
    ids = [uuid.UUID(job_id) for job_id in job_ids]
    with engine.connect() as connection:
        statuses = Counter(
            dict(
                connection.execute(
                    select(Job.status, func.count()).where(Job.id.in_(ids)).group_by(Job.status)
                ).all()
            )
        )
        result_rows = connection.scalar(
            select(func.count()).select_from(JobResultRow).where(JobResultRow.job_id.in_(ids))
        )
        jobs_with_results = connection.scalar(
            select(func.count(func.distinct(JobResultRow.job_id))).where(JobResultRow.job_id.in_(ids))
        )
        events = connection.execute(
            select(WebhookEvent.job_id, func.count())
            .where(WebhookEvent.job_id.in_(ids), WebhookEvent.type.like("job.%"))
            .group_by(WebhookEvent.job_id)
        ).all()
    end_events = Counter({job_id: 0 for job_id in job_ids})
    end_events.update({str(job_id): count for job_id, count in events})
    return Endings(statuses, result_rows or 0, jobs_with_results or 0, end_events)
