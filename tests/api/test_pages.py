"""The server-rendered pages, read as HTML (the browser tests drive the same pages in Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.routes.pages import split_pair
from graph.embedded import EmbeddedStore
from graph.errors import InvalidInput, NotFound
from graph.schema import Artifact
from ingest.catalog import catalog_delta
from tests.fixtures import snapshot_engine


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_compare_page_has_the_seed_layout(client: TestClient) -> None:
    r = client.get("/compare/dalle-3-xl-lora-v2-vs-flux-1-pro")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    api = client.get("/v1/compare/dalle-3-xl-lora-v2/flux-1-pro").json()
    text = _text(r.text)
    assert "dalle-3-xl-lora-v2 vs FLUX.1 Pro" in text
    assert api["headline"] in text
    assert f"Times Matched {api['a']['times_matched']} {api['b']['times_matched']}" in text
    counts = api["a"]["capabilities_count"], api["b"]["capabilities_count"]
    assert f"Capabilities {counts[0]} decomposed {counts[1]} decomposed" in text
    assert f"Rank {api['a']['rank']} /100 {api['b']['rank']} /100" in text
    quality = api["b"]["scores"]["quality"]
    assert f'style="width: {quality:.1f}%"' in r.text, "sub-score bars are as wide as the score"
    assert api["verdict"] in text
    for alt in api["alternatives"]:
        assert f'href="/a/{alt["id"]}"' in r.text
    assert r.text.count('<details class="cap"') == api["a"]["capabilities_count"] + api["b"]["capabilities_count"]
    assert "http://" not in r.text, "no external assets"
    assert "https://" not in r.text, "no external assets"


def test_profile_page(client: TestClient) -> None:
    r = client.get("/a/flux-1-pro")
    api = client.get("/v1/artifacts/flux-1-pro").json()
    why = client.get("/v1/artifacts/flux-1-pro/explain").json()
    text = _text(r.text)
    assert r.status_code == 200
    assert f"Rank {api['rank']} /100" in text
    assert f"Times matched {api['times_matched']}" in text
    for key, part in why["parts"].items():
        assert f'data-score="{key}"' in r.text
        assert f"{part['contribution']:.2f}" in text
    assert "Rank history" in text
    assert f"rank {api['rank']}" in text
    assert f"Capabilities ({api['capabilities_count']})" in text
    assert 'href="/a/flux-1-pro/neighborhood"' in r.text


def test_neighborhood_page_draws_the_api_subgraph(client: TestClient) -> None:
    r = client.get("/a/flux-1-pro/neighborhood")
    sub = client.get("/v1/artifacts/flux-1-pro/neighborhood?depth=1&limit=30").json()
    assert r.status_code == 200
    assert r.text.count("<circle ") == len(sub["nodes"])
    assert r.text.count("<line ") == len(sub["edges"])
    assert r.text.count('class="node center"') == 1
    assert "<script" not in r.text
    assert client.get("/a/flux-1-pro/neighborhood?depth=9").status_code == 422


def test_search_page_links_profiles_and_comparisons(client: TestClient) -> None:
    r = client.get("/search", params={"q": "image generation"})
    hits = client.get("/v1/search", params={"q": "image generation", "limit": 20}).json()["items"]
    assert r.status_code == 200
    rows = re.findall(r'<tr data-id="([^"]+)">', r.text)
    assert rows == [h["id"] for h in hits]
    first = hits[0]["id"]
    for hit in hits[1:]:
        assert f'href="/compare/{first}-vs-{hit["id"]}"' in r.text
    empty = client.get("/search", params={"q": "zzqqxxnothing"})
    assert "Nothing matches" in empty.text
    assert client.get("/search").status_code == 200


def test_page_errors_are_html_with_suggestions(client: TestClient) -> None:
    r = client.get("/a/flux-1-prx")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert 'href="/a/flux-1-pro"' in r.text
    bad = client.get("/compare/flux-1-pro-vs-nope-nope")
    assert bad.status_code == 404
    assert "nope-nope" in bad.text
    assert client.get("/compare/flux-1-pro").status_code == 422
    assert client.get("/compare?a=SDXL&b=flux-1-pro", follow_redirects=False).headers["location"] == \
        "/compare/sdxl-vs-flux-1-pro"


def test_split_pair_tries_every_vs(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    rows = [{"id": "a-vs-b", "name": "A vs B", "type": "model"}, {"id": "c", "name": "C", "type": "model"},
            {"id": "a", "name": "A", "type": "model"}]
    store.apply(catalog_delta([Artifact.model_validate(r) for r in rows]))
    engine = snapshot_engine(tmp_path)
    assert split_pair(engine, "a-vs-b-vs-c") == ("a-vs-b", "c")
    assert split_pair(engine, "A-vs-C") == ("a", "c")
    with pytest.raises(NotFound):
        split_pair(engine, "a-vs-zzz")
    with pytest.raises(InvalidInput):
        split_pair(engine, "just-one")
