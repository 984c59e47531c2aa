"""The store fixture: every contract test runs on the embedded store and, marked ``integration``, on Neo4j.

Neo4j is reached through ``NEO4J_URI`` / ``NEO4J_USER`` / ``NEO4J_PASSWORD`` (``.ci/run`` starts a
server and exports them). Locally an unreachable Neo4j skips those tests with the reason; under
``CI=true`` they fail instead, so a CI run can never pass without them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from graph.settings import Settings
from graph.store import GraphStore
from ingest import sample_files


def neo4j_settings(home: Path) -> Settings:
    uri = os.environ.get("NEO4J_URI")
    if not uri:
        message = "NEO4J_URI is not set: no Neo4j to test against"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: integration tests must run)")
        pytest.skip(message)
    return Settings(MATCHGRAPH_HOME=home, NEO4J_URI=uri)  # type: ignore[call-arg]


def connect_neo4j(home: Path) -> GraphStore:
    settings = neo4j_settings(home)
    from graph.errors import StoreUnavailable
    from graph.neo4j_store import Neo4jStore

    try:
        return Neo4jStore.connect(settings)
    except StoreUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Neo4j is not reachable under CI=true: {e}")
        pytest.skip(f"Neo4j is not reachable: {e}")


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of each kind."""
    if request.param == "embedded":
        s: GraphStore = EmbeddedStore(tmp_path / "home")
    else:
        s = connect_neo4j(tmp_path / "home")
    s.clear()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(tmp_path / "home")
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(MATCHGRAPH_HOME=tmp_path / "home", NEO4J_URI=None)  # type: ignore[call-arg]


SAMPLES = sample_files()
SAMPLES_AS_OF = date(2026, 2, 1)


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding the shipped samples after one nightly run (one recorded run, scored as of
    SAMPLES_AS_OF), shared read-only by the API, page and browser tests."""
    from api.application import MatchGraph
    from tests.fixtures import api_settings

    root = tmp_path_factory.mktemp("samples")
    (root / "catalog").mkdir()
    (root / "logs").mkdir()
    shutil.copy(SAMPLES.catalog, root / "catalog")
    shutil.copy(SAMPLES.searches, root / "logs")
    home = root / "home"
    store = EmbeddedStore(home)
    try:
        report = MatchGraph(api_settings(home), store).nightly(root / "catalog", root / "logs",
                                                               say=lambda _line: None, as_of=SAMPLES_AS_OF)
    finally:
        store.close()
    assert report.ingested == 25_216
    assert report.rescored
    return home


@pytest.fixture(scope="session")
def catalog_only_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped catalog alone, scored: no search logs, so most artifacts rest on too little
    evidence to rank (the state a new user with a catalog and no logs meets)."""
    from api.application import MatchGraph
    from tests.fixtures import api_settings

    home = tmp_path_factory.mktemp("catalog-only") / "home"
    store = EmbeddedStore(home)
    try:
        mg = MatchGraph(api_settings(home), store)
        mg.ingest_catalogs([SAMPLES.catalog])
        mg.score(SAMPLES_AS_OF)
    finally:
        store.close()
    return home
