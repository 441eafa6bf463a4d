from __future__ import annotations

from sqlalchemy.orm import Session

from shared.batches import repository
from shared.models import Batch, JobStatus
from shared.schemas.batches import BatchSummary


def summarize(session: Session, batch: Batch) -> BatchSummary:
    counts = dict.fromkeys((s.value for s in JobStatus), 0) | repository.status_counts(session, batch.id)
    progress = repository.progress_sum(session, batch.id) / batch.job_count if batch.job_count else 1.0
    return BatchSummary(
        id=batch.id,
        status="completed" if batch.finished_at else "running",
        created_at=batch.created_at,
        started_at=repository.started_at(session, batch.id),
        finished_at=batch.finished_at,
        job_count=batch.job_count,
        counts=counts,
        progress=min(round(progress, 4), 1.0),
        webhook_url=batch.webhook_url,
        metadata=batch.client_metadata,
    )
