"""What webhook workers count for Prometheus: every attempt, by what became of its event."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from shared.webhooks.attempt import AttemptResult
from shared.webhooks.service import DeliveryOutcome

ATTEMPTS = Counter(
    "emoq_webhook_attempts_total",
    "Webhook delivery attempts by outcome: delivered, retrying, failed (retries exhausted), disabled (410)",
    ["outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "emoq_webhook_attempt_seconds",
    "One attempt's HTTP exchange with the receiver",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60),
)


def count_attempt(outcome: DeliveryOutcome, result: AttemptResult) -> None:
    ATTEMPTS.labels(outcome.value).inc()
    if result.latency_ms is not None:
        ATTEMPT_SECONDS.observe(result.latency_ms / 1000)
