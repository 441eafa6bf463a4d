"""`emoq keys create --scope`, `emoq keys reseal` and `emoq webhooks secret`, run as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from shared.auth.scopes import Scope
from shared.config import Settings
from shared.models import ApiKey
from shared.sealing import unseal


def emoq(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("EMOQ_")}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**clean, "EMOQ_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "var"
    assert emoq(folder, "migrate").returncode == 0
    return folder


def test_a_key_is_created_with_its_scopes_and_its_own_webhook_secret(data_dir: Path) -> None:
    created = emoq(data_dir, "keys", "create", "--name", "dashboard", "--scope", "jobs:read")

    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("emoq_") and "\n" not in key
    assert "scopes jobs:read)" in created.stderr
    [secret] = [word for word in created.stderr.split() if word.startswith("whsec_")]
    with _session(data_dir) as session:
        [row] = session.query(ApiKey).all()
        assert Scope.parse(row.scopes) == {Scope.JOBS_READ}
        assert (
            row.webhook_secret is not None
            and unseal(row.webhook_secret, Settings(data_dir=data_dir)) == secret
        )
    [row] = [line for line in emoq(data_dir, "keys", "list").stdout.splitlines() if "dashboard" in line]
    assert " jobs:read " in row and "jobs:write" not in row
    assert emoq(data_dir, "keys", "create", "--name", "x", "--scope", "everything").returncode == 2


def test_reseal_moves_every_secret_to_the_newest_sealing_key(data_dir: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    created = emoq(data_dir, "keys", "create", "--name", "a", EMOQ_SECRET_KEY=old)
    [secret] = [word for word in created.stderr.split() if word.startswith("whsec_")]

    resealed = emoq(data_dir, "keys", "reseal", EMOQ_SECRET_KEY=f"{new},{old}")

    assert resealed.returncode == 0 and "1 keys" in resealed.stdout
    with _session(data_dir) as session:
        [row] = session.query(ApiKey).all()
        assert row.webhook_secret is not None
        assert unseal(row.webhook_secret, Settings(data_dir=data_dir, secret_key=new)) == secret


def test_the_development_webhook_secret_is_printed_and_rotated(data_dir: Path) -> None:
    # Another shell than `make run`'s: it shares the data folder, not EMOQ_AUTH_DISABLED.
    first = emoq(data_dir, "webhooks", "secret")
    again = emoq(data_dir, "webhooks", "secret")
    rotated = emoq(data_dir, "webhooks", "secret", "--rotate")
    after = emoq(data_dir, "webhooks", "secret")

    assert first.returncode == 0 and first.stdout.startswith("whsec_")
    assert str((data_dir / "webhook-secret").resolve()) in first.stderr
    assert again.stdout == first.stdout
    assert rotated.stdout != first.stdout and after.stdout == rotated.stdout
    assert (data_dir / "webhook-secret").read_text().strip() == after.stdout.strip()
    # In production, or with the operator's secret, there is no development secret to show.
    production = emoq(data_dir, "webhooks", "secret", EMOQ_ENV="production", EMOQ_AUTH_DISABLED="true")
    assert production.returncode == 1 and production.stdout == ""
    configured = emoq(data_dir, "webhooks", "secret", EMOQ_WEBHOOK_SECRET="whsec_" + "A" * 32)
    assert configured.returncode == 1 and "whsec_" not in configured.stdout + configured.stderr


def _session(data_dir: Path) -> Session:
    return Session(create_engine(f"sqlite:///{(data_dir / 'emoq.db').resolve()}"))
