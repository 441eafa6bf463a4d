from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.broker import get_celery
from shared.config import Settings, get_settings
from shared.db import reset_engine
from shared.migrate import upgrade_to_head
from shared.storage import get_storage
from tests.model_factory import save_tiny_checkpoint, save_tiny_whisper_asr
from tests.s3_server import MotoServer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def require_shared_data() -> Path:
    """../shared/data is the team's corpus: absent in a user's clone (skip), never absent in CI (fail)."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the team data folder {SHARED_DATA} is missing")
    pytest.skip(f"needs the team data folder {SHARED_DATA}, which a plain clone does not have")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_asr_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_whisper_asr(tmp_path_factory.mktemp("tiny-asr-model"))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """An S3 API served over HTTP by moto in its own process, for the whole session."""
    from tests.integration.stack import free_port

    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log", free_port())
    yield server
    server.close()


@pytest.fixture
def embedded_s3(
    embedded: Settings, s3_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The embedded default, with audio kept in a fresh bucket of the S3 server instead of a folder."""
    for name, value in s3_server.env(s3_server.new_bucket()).items():
        monkeypatch.setenv(name, value)
    reset_process_state()
    yield get_settings()
    reset_process_state()


def reset_process_state() -> None:
    """Forget everything cached from settings, so a test's environment takes effect."""
    get_settings.cache_clear()
    reset_engine()
    get_storage.cache_clear()
    get_celery.cache_clear()


@pytest.fixture
def postgres(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated PostgreSQL database for this test (local storage and broker in a temporary folder)."""
    from tests.integration.stack import create_database, drop_database, require_services

    require_services()
    database = create_database()
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    monkeypatch.setenv("EMOQ_DATABASE_URL", url)
    monkeypatch.setenv("EMOQ_DATA_DIR", str(tmp_path / "var"))
    reset_process_state()
    upgrade_to_head()
    try:
        yield url
    finally:
        reset_process_state()
        drop_database(database)


@pytest.fixture
def embedded(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The embedded default in a temporary folder: SQLite, filesystem broker, local storage; migrated.

    Auth is disabled, as ``make run`` has it; tests of access control turn it on (``tests/api/test_auth.py``).
    """
    for name in list(os.environ):
        if name.startswith("EMOQ_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EMOQ_AUTH_DISABLED", "true")
    monkeypatch.setenv("EMOQ_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("EMOQ_MODEL", str(tiny_model))
    reset_process_state()
    upgrade_to_head()
    yield get_settings()
    reset_process_state()
