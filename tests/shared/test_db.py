"""Sessions on the embedded SQLite database keep their transactions whole, savepoints included."""

import uuid

import pytest
from sqlalchemy import select

from shared.config import Settings
from shared.db import get_sessionmaker
from shared.models import Job, JobStatus


def visible_elsewhere(job_id: uuid.UUID) -> bool:
    with get_sessionmaker()() as other:
        return other.scalar(select(Job.id).where(Job.id == job_id)) is not None


@pytest.mark.parametrize("ending", ["commit", "rollback"])
def test_a_released_savepoint_commits_nothing_until_the_session_does(embedded: Settings, ending: str) -> None:
    job_id = uuid.uuid4()
    session = get_sessionmaker()()
    try:
        session.scalar(select(Job.id).limit(1))  # a read first: pysqlite has opened no transaction yet
        with session.begin_nested():
            session.add(Job(id=job_id, status=JobStatus.QUEUED))
        assert not visible_elsewhere(job_id)
        getattr(session, ending)()
    finally:
        session.close()

    assert visible_elsewhere(job_id) is (ending == "commit")
