"""Secrets kept in files of the data folder: made once, whoever races to make them, and private."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.secret_files import read_or_create, replace_value


def test_processes_racing_to_make_a_secret_all_get_the_same_one(tmp_path: Path) -> None:
    path = tmp_path / "var" / "webhook-secret"
    candidates = itertools.count()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda _: read_or_create(path, lambda: f"secret-{next(candidates)}"), range(64))
        )

    values = {value for value, _ in results}
    assert len(values) == 1 and path.read_text().strip() in values
    assert sum(created for _, created in results) == 1
    assert path.stat().st_mode & 0o077 == 0  # readable by its owner alone
    assert [p.name for p in path.parent.iterdir()] == ["webhook-secret"]  # no temporary files left


def test_a_replaced_value_is_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "secret-key"
    read_or_create(path, lambda: "first")
    replace_value(path, "second")
    assert read_or_create(path, lambda: "unused") == ("second", False)
    assert path.stat().st_mode & 0o077 == 0
