from __future__ import annotations

from alembic import context

from shared.config import get_settings
from shared.db import make_engine
from shared.models import Base
from shared.models.base import UTCDateTime

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
target_metadata = Base.metadata


def render_item(type_: str, obj: object, _context: object) -> str | bool:
    # Migrations stay free of application imports: UTCDateTime is a plain timestamp in the database.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode copies a table, drops the original and renames the copy. With foreign keys on,
            # that DROP deletes every row that references the table (ON DELETE CASCADE): job results,
            # webhook events, a batch's jobs. SQLite ignores this pragma inside a transaction, hence here.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        # Batch mode lets the same migrations alter tables on SQLite, which cannot ALTER most things.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows whose references are missing: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
