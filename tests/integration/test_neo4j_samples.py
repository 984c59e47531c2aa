"""The samples on Neo4j: the demo prints the same page as on the embedded store, with the same ranks.
(The Browser guide's queries are checked against the engine in test_browser_guide.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import connect_neo4j, neo4j_settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _demo(home: Path, neo4j: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if neo4j or not k.startswith("NEO4J_")}
    env["MATCHGRAPH_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "api.cli", "demo"], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=900, check=False)


def _json(home: Path, neo4j: bool, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if neo4j or not k.startswith("NEO4J_")}
    env["MATCHGRAPH_HOME"] = str(home)
    result = subprocess.run([sys.executable, "-m", "api.cli", *args, "--json"], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=300, check=True)
    return result.stdout


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("samples")
    neo4j_settings(home)  # skip or fail (CI) when no Neo4j is configured
    store = connect_neo4j(home)  # fails under CI when Neo4j is down
    store.clear()
    store.close()
    embedded = _demo(home / "embedded", neo4j=False)
    on_neo4j = _demo(home / "neo4j", neo4j=True)
    return {"home": home, "embedded": embedded, "neo4j": on_neo4j}


def test_demo_on_neo4j_prints_the_same_page(demos: dict[str, Any]) -> None:
    embedded, on_neo4j = demos["embedded"], demos["neo4j"]
    assert embedded.returncode == 0, embedded.stderr
    assert on_neo4j.returncode == 0, on_neo4j.stderr
    assert on_neo4j.stdout == embedded.stdout
    assert "| Capabilities | 6 decomposed | 13 decomposed |" in on_neo4j.stdout


def test_every_rank_and_times_matched_agree(demos: dict[str, Any]) -> None:
    import json

    home = demos["home"]
    ranks = {}
    for neo4j in (False, True):
        rows = json.loads(_json(home / ("neo4j" if neo4j else "embedded"), neo4j, "top", "--limit", "200"))["items"]
        ranks[neo4j] = {r["id"]: (r["rank"], r["times_matched"], r["scores"]) for r in rows}
    assert len(ranks[False]) == 200
    assert ranks[True] == ranks[False]
