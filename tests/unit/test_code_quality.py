"""The house rules that a tool can check: lint, strict types, and the direction of dependencies."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"graph": set(), "ingest": {"graph"}, "queries": {"graph"}, "ops": {"graph"},
           "api": {"graph", "ingest", "queries", "ops"}}
"""Which of our packages each may import: ``graph`` none, ``ops`` (running Neo4j on a machine) only
``graph``, and ``api``, the interfaces, all of them."""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_dependencies_point_one_way(package: str) -> None:
    others = set(ALLOWED) - {package}
    for path in sorted((ROOT / package).rglob("*.py")):
        wrong = (_imports(path) & others) - ALLOWED[package]
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_only_the_neo4j_store_imports_the_driver() -> None:
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name != "neo4j_store.py":
                assert "neo4j" not in _imports(path), path.relative_to(ROOT)


def test_ruff() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", *ALLOWED, "tests",
                             "bench", "scripts"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]


def test_mypy_strict() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
