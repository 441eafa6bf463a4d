"""The layers hold: ``shared`` imports nothing above it, ``api`` never imports ``worker`` or torch, nothing
imports ``cli``, and the modules of ``shared`` import each other without cycles.

Read from the source with ``ast``, imports inside functions included: a lazy import is still a dependency.
Only imports under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "cli", "shared", "worker")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from shared.jobs import lease`` depends on the module shared.jobs.lease.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def source_modules() -> dict[str, set[str]]:
    return {
        module_name(path): imports_of(path)
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


MODULES = source_modules()


def offenders(importer: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in MODULES.items()
        if module == importer or module.startswith(importer + ".")
        for name in names
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    )


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("shared", ("api", "worker", "cli", "torch", "transformers")),
        ("api", ("worker", "cli", "torch", "transformers")),
        ("worker", ("api", "cli")),
        # Jobs know nothing of batches: what a job's end means for its batch is shared.lifecycle's.
        ("shared.jobs", ("shared.batches", "shared.lifecycle")),
    ],
)
def test_layer_does_not_import_above_itself(importer: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(importer, forbidden) == []


def test_the_check_sees_lazy_imports(tmp_path: Path) -> None:
    # Many heavy imports here are made inside functions; a check blind to them would pass vacuously.
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    import torch\n    from worker.inference import x\n")
    assert {"torch", "worker.inference", "worker.inference.x"} <= imports_of(source)


def test_shared_modules_import_each_other_without_cycles() -> None:
    graph = {
        module: {name for name in names if name in MODULES and name != module}
        for module, names in MODULES.items()
        if module.startswith("shared.")
    }
    # A package's __init__ is imported on the way to its modules; that edge is not a design choice.
    graph = {m: {n for n in deps if not m.startswith(n + ".")} for m, deps in graph.items()}
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for neighbour in sorted(graph.get(node, ())):
            if cycle := visit(neighbour):
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start):
            return cycle
    return None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
