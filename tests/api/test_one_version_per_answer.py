"""Answers served while a nightly run publishes are each true of one version of the graph: the
version the response names (``X-Graph-Version``, and the ETag built from it)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.application import MatchGraph
from graph.embedded import EmbeddedStore
from ingest.synth import write_synth
from queries.engine import QueryEngine
from tests.fixtures import api_settings

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.reliability

ROUTES: dict[str, Callable[[QueryEngine], Any]] = {
    "/v1/compare/dalle-3-xl-lora-v2/flux-1-pro": lambda q: q.compare("dalle-3-xl-lora-v2", "flux-1-pro"),
    "/v1/artifacts/flux-1-pro": lambda q: q.show("flux-1-pro"),
    "/v1/top?limit=20": lambda q: q.top(None, limit=20),
    "/v1/artifacts/flux-1-pro/alternatives?limit=10": lambda q: q.alternatives("flux-1-pro", limit=10),
    "/v1/search?q=image&limit=10": lambda q: q.search("image", limit=10),
}


def test_every_answer_during_a_nightly_matches_the_snapshot_it_names(sample_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    # new logs that name the sample artifacts, in several files, so the run publishes many snapshots
    generated = write_synth(tmp_path / "gen", n_artifacts=300, n_searches=6_000, seed=3, per_file=1_000)
    logs = tmp_path / "logs"
    logs.mkdir()
    for path in generated[1:]:
        shutil.move(path, logs / path.name)
    settings = api_settings(home, MATCHGRAPH_CACHE_ENTRIES=0)
    seen: list[tuple[str, str, bytes]] = []
    done = threading.Event()

    def run_nightly() -> None:
        try:
            MatchGraph(settings).nightly(None, logs, say=lambda _line: None)
        finally:
            done.set()

    with TestClient(create_app(settings)) as client:
        writer = threading.Thread(target=run_nightly)
        writer.start()
        while not done.is_set() or len(seen) < 2 * len(ROUTES):
            for route in ROUTES:
                r = client.get(route)
                assert r.status_code == 200, r.text
                seen.append((r.headers["x-graph-version"], route, r.content))
        writer.join()
    versions = {v for v, _, _ in seen}
    assert len(versions) >= 2, "the run published nothing while answers were served: the test proved nothing"
    store = EmbeddedStore(home)
    checked = 0
    for version, route, body in set(seen):
        engine = QueryEngine(store.snapshot(version), settings)
        expected = ROUTES[route](engine).model_dump(mode="json")
        assert json.loads(body) == expected, (version, route)
        checked += 1
    assert checked >= len(ROUTES) * 2
