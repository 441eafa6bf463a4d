"""What jobs count for Prometheus, in whichever process accepts or ends them (API, worker, reconciler).

Each process exposes what it saw; summed over all of them they give the service's totals. The counts are
taken after the commit, so a rolled-back end is never counted.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Histogram

from shared.models import Job

JOBS_ACCEPTED = Counter("emoq_jobs_accepted_total", "Jobs accepted, alone or in a batch", ["kind"])
JOBS_FINISHED = Counter(
    "emoq_jobs_finished_total", "Jobs that reached a final status", ["status", "error_code"]
)
JOB_LATENCY = Histogram(
    "emoq_job_latency_seconds",
    "From acceptance to a final status, time in the queue included",
    ["status"],
    buckets=(0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200),
)


def count_accepted(job: Job) -> Callable[[], None]:
    kind = "batch" if job.batch_id is not None else "single"
    return JOBS_ACCEPTED.labels(kind).inc


def count_finished(job: Job) -> Callable[[], None]:
    # Read now: after the commit the row's attributes are expired.
    status, code = str(job.status), job.error_code or ""
    latency = (job.finished_at - job.created_at).total_seconds() if job.finished_at else None

    def count() -> None:
        JOBS_FINISHED.labels(status, code).inc()
        if latency is not None:
            JOB_LATENCY.labels(status).observe(max(latency, 0.0))

    return count
