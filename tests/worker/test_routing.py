"""A message that reaches a worker not serving its job's model is sent on to that model's queue, never
scored by the wrong model."""

from __future__ import annotations

import uuid

import pytest

from shared.config import Settings
from shared.db import session_scope
from shared.models import Batch, Job, JobStatus
from tests.api.conftest import queued_messages
from worker import tasks


def test_a_job_of_a_model_this_worker_does_not_serve_goes_to_its_own_queue(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "models", f"fast={embedded.model},accurate={embedded.model}")
    monkeypatch.setattr(embedded, "worker_models", "fast")
    monkeypatch.setattr(tasks, "get_classifier", lambda name: pytest.fail(f"loaded {name}"))
    single, in_batch, batch = uuid.uuid4(), uuid.uuid4(), Batch(id=uuid.uuid4(), job_count=1)
    with session_scope() as session:
        session.add(batch)
        session.add(Job(id=single, status=JobStatus.QUEUED, model="accurate"))
        session.add(Job(id=in_batch, status=JobStatus.QUEUED, model="accurate", batch_id=batch.id))

    for job_id in (single, in_batch):
        tasks.analyze.run(str(job_id))

    sent = sorted(message.name.split(".", 1)[1] for message in queued_messages(embedded))
    assert sent == ["bulk.accurate.msg", "inference.accurate.msg"], "a batch's job to its bulk queue"
    with session_scope() as session:
        assert {session.get(Job, job_id).status for job_id in (single, in_batch)} == {JobStatus.QUEUED}
