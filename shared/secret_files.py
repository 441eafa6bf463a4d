"""Secrets kept in files of the data folder (development only): created once, readable by the owner alone."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """The file's value, made and written first if the file is missing; and whether it was made now.

    Processes started together (the API, workers) race to create it: the value is written to a private
    temporary file and linked into place, which fails for all but one, so nobody reads half a secret and
    everybody ends up with the same one.
    """
    if path.exists():
        return path.read_text().strip(), False
    try:
        _write_new(path, make(), replace=False)
    except FileExistsError:
        return path.read_text().strip(), False
    return path.read_text().strip(), True


def replace_value(path: Path, value: str) -> None:
    """Write a new value atomically: a reader sees the old value or the new one."""
    _write_new(path, value, replace=True)


def _write_new(path: Path, value: str, *, replace: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp makes the file 0600: the secret is never readable by others, not even for a moment.
        with os.fdopen(descriptor, "w") as handle:
            handle.write(value + "\n")
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
