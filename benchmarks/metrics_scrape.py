"""What a Prometheus scrape of the API costs as the jobs table grows.

    .venv/bin/python benchmarks/metrics_scrape.py --jobs 100000 [--scrapes 50]

Fills a fresh database with jobs in every status (SQLite in a temporary folder, or the PostgreSQL of
EMOQ_DATABASE_URL, which must be an empty database), then times GET /metrics through the real app: the
job counts by status, the oldest queued job and the broker's queue depths are read on every scrape.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert

from api.main import create_app
from shared.db import get_engine
from shared.migrate import upgrade_to_head
from shared.models import Job, JobStatus
from shared.models.base import utcnow

BENCH_TOKEN = "benchmark"
CHUNK = 5000
# Most rows of a long-running service are finished; a backlog is a small share.
MIX = [JobStatus.SUCCEEDED] * 90 + [JobStatus.FAILED] * 5 + [JobStatus.QUEUED] * 4 + [JobStatus.PROCESSING]


def fill(jobs: int) -> None:
    now = utcnow()
    with get_engine().begin() as connection:
        for start in range(0, jobs, CHUNK):
            rows = []
            for i in range(start, min(start + CHUNK, jobs)):
                created = now - timedelta(seconds=jobs - i)
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "status": MIX[i % len(MIX)].value,
                        "created_at": created,
                        "updated_at": created,
                        "enqueued_at": created,
                        "attempts": 0,
                        "progress": 0.0,
                    }
                )
            connection.execute(insert(Job), rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--scrapes", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("EMOQ_DATA_DIR", tempfile.mkdtemp(prefix="emoq-bench-"))
    os.environ.setdefault("EMOQ_AUTH_DISABLED", "true")
    # Through the app, as a scraper with the token reads it on the API's port.
    os.environ["EMOQ_METRICS_TOKEN"] = BENCH_TOKEN
    upgrade_to_head()
    started = time.perf_counter()
    fill(args.jobs)
    print(
        f"database: {get_engine().dialect.name}, {args.jobs} jobs written in {time.perf_counter() - started:.1f} s"
    )
    with TestClient(create_app(), headers={"Authorization": f"Bearer {BENCH_TOKEN}"}) as client:
        client.get("/metrics")  # connections and caches warm
        times = []
        for _ in range(args.scrapes):
            started = time.perf_counter()
            response = client.get("/metrics")
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(
        f"GET /metrics over {args.scrapes} scrapes: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"
    )
    print(f"response size: {len(response.content)} bytes")


if __name__ == "__main__":
    main()
