"""A store with the shipped samples taken in by one nightly run, shared by the API and page tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.nightly import run_nightly
from graph.embedded import EmbeddedStore
from graph.settings import Settings
from queries.scoring import ScoringConfig

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
AS_OF = date(2026, 2, 1)


def api_settings(home: Path, **overrides: object) -> Settings:
    """Settings for tests: no version-check delay, so a write is seen by the next request."""
    values: dict[str, object] = {"MATCHGRAPH_HOME": home, "NEO4J_URI": None, "MATCHGRAPH_VERSION_CHECK_S": 0}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding the samples after one nightly run (one recorded run, scored as of AS_OF)."""
    root = tmp_path_factory.mktemp("api")
    (root / "catalog").mkdir()
    (root / "logs").mkdir()
    shutil.copy(SAMPLES / "catalog.jsonl", root / "catalog")
    shutil.copy(SAMPLES / "searches.jsonl.gz", root / "logs")
    home = root / "home"
    store = EmbeddedStore(home)
    try:
        report = run_nightly(store, api_settings(home), root / "catalog", root / "logs",
                             ScoringConfig(as_of=AS_OF), say=lambda _line: None)
    finally:
        store.close()
    assert report.ingested == 25_216 and report.rescored
    return home


@pytest.fixture
def home_copy(sample_home: Path, tmp_path: Path) -> Path:
    """A private copy of the sample home, for tests that write."""
    target = tmp_path / "home"
    shutil.copytree(sample_home, target)
    return target


@pytest.fixture(scope="session")
def client(sample_home: Path) -> Iterator[TestClient]:
    """A read-only client over the sample store (tests that write use ``home_copy``)."""
    with TestClient(create_app(api_settings(sample_home))) as c:
        yield c
