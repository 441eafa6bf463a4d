"""A transient failure (the database away) retries the task with Celery's capped, jittered backoff."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from celery import Task
from celery.exceptions import Retry
from sqlalchemy.exc import OperationalError

from worker import tasks, webhook_tasks
from worker.retries import TransientFailure


def database_away(*_: Any, **__: Any) -> None:
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


def attempt(task: Task, retries: int) -> BaseException:
    """Run the task body as a worker would on its ``retries``-th retry; what it raised."""
    task.push_request(id=str(uuid.uuid4()), retries=retries, called_directly=False, is_eager=True)
    try:
        task.run(str(uuid.uuid4()))
    except BaseException as exc:
        return exc
    finally:
        task.pop_request()
    raise AssertionError("the task did not fail")


@pytest.fixture(params=["analyze", "deliver"])
def failing_task(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Task:
    if request.param == "analyze":
        monkeypatch.setattr(tasks, "model_of", lambda job_id, settings: (settings.default_model, None))
        monkeypatch.setattr(tasks, "get_classifier", lambda name: object())
        monkeypatch.setattr(tasks, "analyze_job", database_away)
        return tasks.analyze
    monkeypatch.setattr(webhook_tasks, "deliver_event", database_away)
    return webhook_tasks.deliver


def test_transient_failures_back_off_exponentially_with_jitter_and_a_cap(failing_task: Task) -> None:
    early = [attempt(failing_task, retries=1) for _ in range(10)]
    late = [attempt(failing_task, retries=7) for _ in range(30)]

    assert all(isinstance(exc, Retry) for exc in early + late)
    # Doubling from 2 s: at most 4 s before the second try, 256 s before the eighth.
    assert max(exc.when for exc in early) <= 4
    waits = [exc.when for exc in late]
    assert max(waits) <= 256
    # Jittered: workers that lost the database together do not all come back at the same moment.
    assert len(set(waits)) > 5, waits


def test_the_retries_end(failing_task: Task) -> None:
    exc = attempt(failing_task, retries=failing_task.retry_kwargs["max_retries"])

    assert isinstance(exc, TransientFailure)
    assert isinstance(exc.__cause__, OperationalError)


def test_other_errors_are_not_retried(failing_task: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(tasks, "analyze_job", broken)
    monkeypatch.setattr(webhook_tasks, "deliver_event", broken)

    assert isinstance(attempt(failing_task, retries=0), ValueError)
