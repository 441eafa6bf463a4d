"""The schema comes only from migrations, and the migrations build exactly what the models declare."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    DateTime,
    Uuid,
    column,
    create_engine,
    func,
    insert,
    inspect,
    select,
    table,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.migrate import alembic_config, upgrade_to_head
from shared.models import ApiKey, Base, Job, JobStatus
from tests.integration.stack import create_database, drop_database, require_services


def assert_schema_matches_models(url: str) -> None:
    upgrade_to_head(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"jobs", "job_results", "served_models"} <= tables


def test_migrations_match_models_on_sqlite(tmp_path) -> None:
    assert_schema_matches_models(f"sqlite:///{tmp_path / 'schema.db'}")


@pytest.mark.integration
def test_migrations_match_models_on_postgres() -> None:
    require_services()
    name = create_database()
    try:
        assert_schema_matches_models(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    finally:
        drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'schema.db'}"
        return
    require_services()
    name = create_database()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        drop_database(name)


UTC_TIME = DateTime(timezone=True)


def test_ownership_migration_keeps_every_row_and_goes_back(empty_database: str) -> None:
    # On SQLite, batch mode rebuilds jobs and batches; with foreign keys on, that would cascade-delete
    # the results, events and batch jobs that reference them.
    config = alembic_config(empty_database)
    command.upgrade(config, "0002")
    engine = create_engine(empty_database)
    batch_id, job_id, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    # The tables as revision 0002 has them: the columns that need a value, typed for both backends.
    stamps = ("created_at", "updated_at")
    batches = table(
        "batches", column("id", Uuid), *(column(c, UTC_TIME) for c in stamps), column("job_count")
    )
    jobs = table(
        "jobs",
        *(column(c, Uuid) for c in ("id", "batch_id")),
        *(column(c, UTC_TIME) for c in stamps),
        *(column(c) for c in ("status", "attempts", "progress", "idempotency_key")),
    )
    results = table(
        "job_results",
        column("job_id", Uuid),
        column("created_at", UTC_TIME),
        *(column(c) for c in ("model_id", "model_revision", "dominant_label", "dominant_score")),
        *(column(c, JSON) for c in ("scores", "segments")),
    )
    with engine.begin() as connection:
        connection.execute(insert(batches).values(id=batch_id, created_at=now, updated_at=now, job_count=1))
        connection.execute(
            insert(jobs).values(
                id=job_id,
                status="succeeded",
                created_at=now,
                updated_at=now,
                attempts=1,
                progress=1.0,
                batch_id=batch_id,
                idempotency_key="k",
            )
        )
        connection.execute(
            insert(results).values(
                job_id=job_id,
                created_at=now,
                model_id="m",
                model_revision="r",
                dominant_label="sad",
                dominant_score=1.0,
                scores=[],
                segments=[],
            )
        )

    def counts() -> list[int]:
        with engine.connect() as connection:
            return [
                connection.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (batches, jobs, results)
            ]

    command.upgrade(config, "head")
    assert counts() == [1, 1, 1]
    command.downgrade(config, "0002")
    assert counts() == [1, 1, 1]
    engine.dispose()


def test_idempotency_keys_are_unique_per_owner_and_among_jobs_without_one(empty_database: str) -> None:
    upgrade_to_head(empty_database)
    engine = create_engine(empty_database)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    with Session(engine) as session:
        session.add_all(
            [
                ApiKey(id=alice, name="alice", prefix="emoq_a", key_hash="a" * 64),
                ApiKey(id=bob, name="bob", prefix="emoq_b", key_hash="b" * 64),
            ]
        )
        session.commit()

    def add(owner: uuid.UUID | None, key: str) -> bool:
        with Session(engine) as session:
            session.add(Job(owner_key_id=owner, idempotency_key=key, status=JobStatus.QUEUED))
            try:
                session.commit()
            except IntegrityError:
                return False
        return True

    assert [add(alice, "k"), add(bob, "k"), add(None, "k")] == [True, True, True]
    assert [add(alice, "k"), add(bob, "k"), add(None, "k")] == [False, False, False]
    assert add(alice, "other") and add(None, "other")
    engine.dispose()


def test_keys_made_before_scopes_keep_every_scope_and_events_name_their_owner(empty_database: str) -> None:
    config = alembic_config(empty_database)
    before = "0007-1"  # the revision before scopes and webhook secrets, wherever it is chained
    command.upgrade(config, before)
    engine = create_engine(empty_database)
    key_id, job_id, event_id, now = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    keys = table(
        "api_keys",
        column("id", Uuid),
        column("created_at", UTC_TIME),
        *map(column, ("name", "prefix", "key_hash")),
    )
    jobs = table(
        "jobs",
        *(column(c, Uuid) for c in ("id", "owner_key_id")),
        *(column(c, UTC_TIME) for c in ("created_at", "updated_at")),
        *(column(c) for c in ("status", "attempts", "progress")),
    )
    events = table(
        "webhook_events",
        *(column(c, Uuid) for c in ("id", "job_id")),
        column("created_at", UTC_TIME),
        column("payload", JSON),
        *(column(c) for c in ("type", "url", "status", "attempts")),
    )
    with engine.begin() as connection:
        connection.execute(
            insert(keys).values(id=key_id, created_at=now, name="old", prefix="emoq_x", key_hash="h")
        )
        connection.execute(
            insert(jobs).values(
                id=job_id,
                owner_key_id=key_id,
                created_at=now,
                updated_at=now,
                status="succeeded",
                attempts=1,
                progress=1.0,
            )
        )
        connection.execute(
            insert(events).values(
                id=event_id,
                job_id=job_id,
                created_at=now,
                payload={},
                type="job.succeeded",
                url="https://hooks.example.com/",
                status="delivered",
                attempts=1,
            )
        )

    command.upgrade(config, "head")
    with Session(engine) as session:
        key = session.get(ApiKey, key_id)
        assert key is not None and key.scopes == "jobs:read jobs:write admin" and key.webhook_secret is None
        owner = session.execute(
            select(column("owner_key_id", Uuid)).select_from(table("webhook_events"))
        ).scalar()
        assert owner == key_id
    command.downgrade(config, before)
    engine.dispose()
