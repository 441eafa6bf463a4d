"""Per-key limits hold exactly under concurrent submissions, on both backends: the key's row is the lock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.auth import service as keys
from shared.auth.caller import Caller
from shared.config import Settings
from shared.db import reset_engine, session_scope
from shared.errors import TooManyRequests
from shared.jobs import intake, queue
from shared.jobs.intake import NewJob
from shared.migrate import upgrade_to_head
from tests.integration.stack import create_database, drop_database, require_services

SUBMITTERS = 6
EACH = 4


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def database(
    request: pytest.FixtureRequest, embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    # Nothing reaches a broker: these tests are about the admission, not the queue.
    monkeypatch.setattr(queue, "enqueue_analysis", lambda session, job_id, bulk: None)
    if request.param == "sqlite":
        yield embedded
        return
    require_services()
    name = create_database()
    try:
        monkeypatch.setattr(embedded, "database_url", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
        reset_engine()
        upgrade_to_head(embedded.database_url)
        yield embedded
    finally:
        reset_engine()
        drop_database(name)


def submit_concurrently(caller: Caller) -> list[bool]:
    def submit(_: int) -> list[bool]:
        admitted = []
        for _ in range(EACH):
            try:
                with session_scope() as session:
                    intake.create_job(session, caller, NewJob(id=uuid.uuid4(), audio_url="https://x.org/a"))
                admitted.append(True)
            except TooManyRequests:
                admitted.append(False)
        return admitted

    with ThreadPoolExecutor(SUBMITTERS) as pool:
        return [ok for results in pool.map(submit, range(SUBMITTERS)) for ok in results]


def new_caller() -> Caller:
    with session_scope() as session:
        return Caller(key_id=keys.create_key(session, "concurrent").row.id)


def test_concurrent_submissions_never_exceed_the_rate_limit(
    database: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "rate_limit_per_minute", 7)

    assert submit_concurrently(new_caller()).count(True) == 7


def test_concurrent_submissions_never_exceed_the_active_quota(
    database: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "max_active_jobs_per_key", 5)
    caller = new_caller()

    assert submit_concurrently(caller).count(True) == 5
    assert submit_concurrently(new_caller()).count(True) == 5  # another key, its own quota
