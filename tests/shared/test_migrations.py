"""The schema comes only from migrations, and the migrations build exactly what the models declare."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from shared.migrate import upgrade_to_head
from shared.models import Base
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
