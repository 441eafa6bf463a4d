"""docs/security.md names, for each defence, the test that proves it: every one of them must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_the_threat_model_names_exists() -> None:
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", (ROOT / "docs" / "security.md").read_text())

    assert len(named) >= 30
    for path, name in named:
        source = ROOT / path
        assert source.is_file(), f"docs/security.md names {path}, which does not exist"
        defined = {
            node.name
            for node in ast.walk(ast.parse(source.read_text()))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert name in defined, f"docs/security.md names {path}::{name}, which does not exist"
