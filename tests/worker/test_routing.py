"""A message that reaches a worker not serving its job's model is sent on to that model's queue, never
scored by the wrong model."""

from __future__ import annotations

import uuid

import pytest

from shared.config import Settings
from shared.db import session_scope
from shared.models import Job, JobStatus
from tests.api.conftest import queued_messages
from worker import tasks


def test_a_job_of_a_model_this_worker_does_not_serve_goes_to_its_own_queue(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "models", f"fast={embedded.model},accurate={embedded.model}")
    monkeypatch.setattr(embedded, "worker_models", "fast")
    monkeypatch.setattr(tasks, "get_classifier", lambda name: pytest.fail(f"loaded {name}"))
    job_id = uuid.uuid4()
    with session_scope() as session:
        session.add(Job(id=job_id, status=JobStatus.QUEUED, model="accurate"))

    tasks.analyze.run(str(job_id))

    [message] = queued_messages(embedded)
    assert message.name.endswith(".inference.accurate.msg")
    with session_scope() as session:
        assert session.get(Job, job_id).status == JobStatus.QUEUED
