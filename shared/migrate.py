"""Apply the Alembic migrations: the only way the schema is created or changed."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from shared.config import REPO_ROOT, get_settings


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    # Alembic's ini interpolation treats % specially; URLs may contain escaped characters.
    config.set_main_option("sqlalchemy.url", (database_url or get_settings().database_url).replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str | None = None) -> None:
    command.upgrade(alembic_config(database_url), "head")
