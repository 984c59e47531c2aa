"""The HTTP API over Neo4j answers as it does over the embedded store, from the same input."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.embedded import EmbeddedStore
from queries.scoring import ScoringConfig, score
from tests.conftest import connect_neo4j
from tests.fixtures import api_settings, load_fixture

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from graph.store import GraphStore

pytestmark = pytest.mark.integration

SAME = [
    "/v1/artifacts/flux-1-pro",
    "/v1/artifacts/sdxl-lora-anime",
    "/v1/compare/dalle-3/flux-1-pro",
    "/v1/top?limit=10",
    "/v1/top?type=model&limit=2&offset=1",
    "/v1/artifacts/flux-1-pro/alternatives?limit=3",
    "/v1/artifacts/flux-1-pro/explain",
    "/v1/path/sdxl-lora-anime/flux-1-pro",
    "/v1/runs",
]


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient, GraphStore]]:
    neo4j = connect_neo4j(tmp_path / "neo4j-home")
    neo4j.clear()
    embedded = EmbeddedStore(tmp_path / "embedded-home")
    load_fixture([embedded, neo4j], tmp_path)
    for store in (embedded, neo4j):
        score(store, ScoringConfig(as_of=date(2026, 1, 5)))
    try:
        with TestClient(create_app(api_settings(tmp_path / "e"), embedded)) as e, \
                TestClient(create_app(api_settings(tmp_path / "n"), neo4j)) as n:
            yield e, n, neo4j
    finally:
        neo4j.clear()


def _json(client: TestClient, url: str) -> Any:
    r = client.get(url)
    assert r.status_code == 200, (url, r.text)
    return r.json()


def test_the_same_answers_on_both_stores(clients: tuple[TestClient, TestClient, GraphStore]) -> None:
    embedded, neo4j, _ = clients
    for url in SAME:
        assert _json(neo4j, url) == _json(embedded, url), url
    for url in ("/v1/artifacts/flux-1-pro/neighborhood?depth=2&limit=10",):
        a, b = _json(embedded, url), _json(neo4j, url)
        assert sorted(n["id"] for n in a["nodes"]) == sorted(n["id"] for n in b["nodes"])
        assert sorted((e["source"], e["target"], e["type"]) for e in a["edges"]) == \
            sorted((e["source"], e["target"], e["type"]) for e in b["edges"])
    hits = _json(neo4j, "/v1/search?q=flux")["items"]
    assert {h["id"] for h in hits} >= {"flux-1-pro", "flux-1-dev"}
    assert _json(neo4j, "/ready")["store"] == "neo4j"
    missing = neo4j.get("/v1/artifacts/flux-1-prx")
    assert missing.status_code == 404
    assert "flux-1-pro" in missing.json()["suggestions"]
    page = neo4j.get("/compare/dalle-3-vs-flux-1-pro")
    assert page.status_code == 200
    assert "FLUX.1 Pro" in page.text


def test_neo4j_answers_are_cached_until_a_write(clients: tuple[TestClient, TestClient, GraphStore]) -> None:
    _, neo4j, store = clients
    first = neo4j.get("/v1/artifacts/flux-1-pro")
    tag = first.headers["etag"]
    assert neo4j.get("/v1/artifacts/flux-1-pro", headers={"If-None-Match": tag}).status_code == 304
    score(store, ScoringConfig(as_of=date(2026, 1, 6)))
    after = neo4j.get("/v1/artifacts/flux-1-pro", headers={"If-None-Match": tag})
    assert after.status_code == 200
    assert after.headers["etag"] != tag
