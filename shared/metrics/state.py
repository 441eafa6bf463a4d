"""The service's state, read from the database and the broker each time Prometheus scrapes the API.

Counters in each process say what happened; this says where things stand: jobs in each status, messages
waiting in each queue, trainings in each status, how long the oldest queued job has waited. A source that cannot be read is left
out of that scrape and reported as down, so the endpoint always answers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared import leases
from shared.broker import all_queues
from shared.config import get_settings
from shared.db import session_scope
from shared.jobs import repository
from shared.models import Job, JobStatus, Training, TrainingStatus
from shared.models.base import utcnow
from shared.recovery.broker_depth import waiting_messages

log = logging.getLogger(__name__)


class ServiceStateCollector(Collector):
    def describe(self) -> list[Metric]:
        # Registering must not read the database: the names are known only when collected.
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "emoq_state_source_up", "Whether this scrape could read the source", labels=["source"]
        )
        try:
            yield from _database_state()
            up.add_metric(["database"], 1)
        except Exception:
            log.warning("metrics: could not read job counts from the database", exc_info=True)
            up.add_metric(["database"], 0)
        try:
            yield _queue_depth()
            up.add_metric(["broker"], 1)
        except Exception:
            log.warning("metrics: could not read queue depths from the broker", exc_info=True)
            up.add_metric(["broker"], 0)
        yield up


def _database_state() -> Iterator[Metric]:
    # Everything is read before the first yield: a generator paused inside the session would hold its
    # connection until the scrape is written out.
    with session_scope() as session:
        counts = leases.count_by_status(session, Job)
        training_counts = leases.count_by_status(session, Training)
        oldest = repository.oldest_queued_at(session)
    jobs = GaugeMetricFamily("emoq_jobs", "Jobs in each status now", labels=["status"])
    for status in JobStatus:
        jobs.add_metric([status.value], counts.get(status.value, 0))
    trainings = GaugeMetricFamily("emoq_trainings", "Trainings in each status now", labels=["status"])
    for training_status in TrainingStatus:
        trainings.add_metric([training_status.value], training_counts.get(training_status.value, 0))
    yield trainings
    wait = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    yield jobs
    yield GaugeMetricFamily(
        "emoq_oldest_queued_job_age_seconds",
        "How long the longest-waiting queued job has waited; 0 when none waits",
        value=max(wait, 0.0),
    )


def _queue_depth() -> Metric:
    depth = GaugeMetricFamily(
        "emoq_queue_depth",
        "Messages waiting in each broker queue, not yet taken by a worker",
        labels=["queue"],
    )
    for queue, count in waiting_messages(all_queues(get_settings())).items():
        depth.add_metric([queue], count)
    return depth
