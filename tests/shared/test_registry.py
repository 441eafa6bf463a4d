"""A model version and the jobs that ask for it, on PostgreSQL: a version is never deleted from under a
job being submitted, and a job never comes to ask for a version being deleted. Each side holds the
version's row until it commits, so the other waits for it and then sees what it did."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.orm import Session

from shared.auth.caller import ANONYMOUS
from shared.config import get_settings
from shared.db import session_scope
from shared.errors import Conflict, UnknownModel
from shared.jobs import intake
from shared.jobs.intake import NewJob
from shared.models import Job, ModelVersion
from shared.registry import service as registry
from shared.storage import get_storage
from tests.model_versions import register_version

T = TypeVar("T")
# Long enough for the other transaction to reach its lock and wait there.
WAIT_SECONDS = 0.5


def in_own_transaction(work: Callable[[Session], T]) -> T:
    with session_scope() as session:
        return work(session)


@pytest.fixture
def version_id(postgres: str, tiny_model: Path) -> uuid.UUID:
    with session_scope() as session:
        return register_version(session, get_storage(), tiny_model).id


def test_a_deletion_waits_for_a_submission_that_asks_for_the_version_and_is_then_refused(
    version_id: uuid.UUID,
) -> None:
    with ThreadPoolExecutor(1) as pool, session_scope() as submitting:
        choice = registry.choose_model(submitting, ANONYMOUS, str(version_id), get_settings())
        deleting = pool.submit(
            in_own_transaction,
            lambda session: registry.delete_version(session, get_storage(), ANONYMOUS, version_id),
        )
        time.sleep(WAIT_SECONDS)
        assert not deleting.done(), "the deletion waits for the submission to commit"
        job, _ = intake.create_job(
            submitting,
            ANONYMOUS,
            NewJob(
                id=uuid.uuid4(),
                audio_url="https://example.com/a.wav",
                model=choice.model,
                model_version_id=choice.version_id,
            ),
        )

    with pytest.raises(Conflict) as refused:
        deleting.result(timeout=30)
    assert refused.value.code == "model_in_use"
    with session_scope() as session:
        assert session.get(Job, job.id).model_version_id == version_id
        assert session.get(ModelVersion, version_id) is not None


def test_a_submission_waits_for_a_deletion_of_its_version_and_then_finds_no_such_model(
    version_id: uuid.UUID,
) -> None:
    with ThreadPoolExecutor(1) as pool:
        with session_scope() as deleting:
            registry.delete_version(deleting, get_storage(), ANONYMOUS, version_id)
            submitting = pool.submit(
                in_own_transaction,
                lambda session: registry.choose_model(session, ANONYMOUS, str(version_id), get_settings()),
            )
            time.sleep(WAIT_SECONDS)
            assert not submitting.done(), "the submission waits for the deletion to commit"

        with pytest.raises(UnknownModel):
            submitting.result(timeout=30)
