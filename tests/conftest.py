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
from tests.model_factory import save_tiny_checkpoint

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


def reset_process_state() -> None:
    """Forget everything cached from settings, so a test's environment takes effect."""
    get_settings.cache_clear()
    reset_engine()
    get_storage.cache_clear()
    get_celery.cache_clear()


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
