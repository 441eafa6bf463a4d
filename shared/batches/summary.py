from __future__ import annotations

from sqlalchemy.orm import Session

from shared.batches import repository
from shared.models import Batch, JobStatus
from shared.schemas.batches import BatchSummary


def summarize(session: Session, batch: Batch) -> BatchSummary:
    tally = repository.tally_jobs(session, batch.id)
    counts = dict.fromkeys((s.value for s in JobStatus), 0) | tally.counts
    progress = tally.progress / batch.job_count if batch.job_count else 1.0
    return BatchSummary(
        id=batch.id,
        status="completed" if batch.finished_at else "running",
        created_at=batch.created_at,
        started_at=tally.started_at,
        finished_at=batch.finished_at,
        job_count=batch.job_count,
        counts=counts,
        progress=min(round(progress, 4), 1.0),
        webhook_url=batch.webhook_url,
        metadata=batch.client_metadata,
    )
