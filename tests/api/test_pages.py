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
    places = [f"#{s['place_range'][0]}–{s['place_range'][1]} of {s['of']} models"
              for s in (api["a"]["standing"], api["b"]["standing"])]
    assert f"Rank {api['a']['rank']} /100 {places[0]} {api['b']['rank']} /100 {places[1]}" in text
    quality = api["b"]["scores"]["quality"]
    assert f'style="width: {quality:.1f}%"' in r.text, "sub-score bars are as wide as the score"
    assert api["verdict"] in text
    # the verdict comes right after the table, then the evidence about the pair, then capabilities
    order = [r.text.index(marker) for marker in ('id="compare-table"', 'id="verdict"', 'id="head-to-head"',
                                                 'id="price-quality"', 'id="capability-comparison"')]
    assert order == sorted(order)
    h2h = api["head_to_head"]
    assert h2h["sentence"] in text
    assert h2h["shown_together"] > 0
    assert f"Shown together {h2h['shown_together']} searches" in text
    assert f"chosen over FLUX.1 Pro {h2h['a_over_b']}" in text
    assert f"{h2h['probability'] * 100:.0f}% (95% interval {h2h['interval'][0] * 100:.0f}–" in text
    assert f"Starting Price {api['a']['price']['starting']} {api['b']['price']['starting']}" in text
    for alt in api["alternatives"]:
        assert f'href="/a/{alt["id"]}"' in r.text
    assert r.text.count('<details class="cap"') == api["a"]["capabilities_count"] + api["b"]["capabilities_count"]
    assert not re.search(r'(src|<link[^>]*href)="https?://', r.text), "no external assets"
    assert '<link rel="canonical" href="/compare/dalle-3-xl-lora-v2-vs-flux-1-pro">' in r.text
    assert f'<meta name="description" content="{api["headline"][:60]}' in r.text
    assert "synthetic sample logs" in api["headline"]
    assert "real search data" not in r.text


def test_a_cross_type_page_is_side_by_side(client: TestClient) -> None:
    api = client.get("/v1/compare/flux-1-pro/gradio").json()
    assert api["side_by_side"] is True
    assert api["winner"] is None
    assert "ranks higher" not in api["headline"]
    assert "side by side" in api["headline"]
    text = _text(client.get("/compare/flux-1-pro-vs-gradio").text)
    assert "Side-by-side: a Model and a Repository are ranked within their own types." in text


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
    # quality and its interval in the units shown, the place range within type, provider and its link
    q = api["quality"]
    assert f"what people chose gives {q['choices']:.0f} (95% interval {q['choices_interval'][0]:.0f} to " in text
    s = api["standing"]
    assert f"Place {s['place']} of {s['of']} ranked models" in text
    assert "by Black Forest Labs" in text
    assert '<a href="https://bfl.ai" rel="nofollow noopener">' in r.text
    assert f"Starting price: {api['price']['starting']}" in text.replace("Price ", "Starting price: ", 1)
    history = client.get("/v1/artifacts/flux-1-pro/history").json()["items"]
    assert r.text.count("<circle ") == len(history)  # one point per run, on the chart
    assert f"{history[0]['as_of']}: rank {history[0]['rank']}" in r.text
    assert '<link rel="canonical" href="/a/flux-1-pro">' in r.text
    assert '<meta name="description" content="FLUX.1 Pro: Model, ranked' in r.text


def test_no_logs_no_numbers_and_no_claims(bare_client: TestClient) -> None:
    """A catalog without search logs: sub-scores without evidence are null and "–", artifacts
    resting on too little are not ranked, and nothing speaks of search data."""
    api = bare_client.get("/v1/artifacts/gpt-4o").json()
    assert api["rank"] is None
    assert api["standing"]["ranked"] is False
    assert api["standing"]["evidence_share"] == 0.15
    assert api["scores"] == {"adoption": None, "quality": None, "ecosystem": api["scores"]["ecosystem"],
                             "match_graph": None, "freshness": None}
    assert api["logs"] == "none"
    page = bare_client.get("/a/gpt-4o").text
    text = _text(page)
    assert "Not ranked Too little is known to rank it: only 15% of the rank's weight rests on evidence" in text
    assert page.count('title="no evidence for this sub-score">–</span>') == 4
    cmp = bare_client.get("/v1/compare/gpt-4o/claude-sonnet-4-5").json()
    assert cmp["winner"] is None
    assert "search data" not in cmp["headline"] + cmp["verdict"]
    assert "no search logs" in cmp["headline"]
    assert "catalog signals" not in cmp["verdict"]  # these two have none
    assert cmp["head_to_head"]["shown_together"] == 0
    assert cmp["head_to_head"]["probability"] is None
    home = _text(bare_client.get("/").text)
    assert "No search logs have been ingested" in home
    top = bare_client.get("/v1/top", params={"limit": 50}).json()["items"]
    assert len(top) == 50
    assert all(x["standing"]["ranked"] for x in top)
    ranked = bare_client.get("/v1/artifacts/meta-llama-llama-3.1-8b-instruct").json()
    assert ranked["quality"]["weights"] == {"benchmarks": 1.0}  # no comparisons: benchmarks carry quality
    assert [b["name"] for b in ranked["quality"]["benchmark_results"]] == sorted(
        ["BBH", "GPQA", "IFEval", "MATH Lvl 5", "MMLU-PRO", "MuSR"])


def test_neighborhood_page_draws_the_api_subgraph(client: TestClient) -> None:
    drawn = {}
    for depth in (1, 2):
        r = client.get(f"/a/flux-1-pro/neighborhood?depth={depth}")
        sub = client.get(f"/v1/artifacts/flux-1-pro/neighborhood?depth={depth}&limit=30").json()
        assert r.status_code == 200
        assert r.text.count('<circle cx="') == len(sub["nodes"])  # ring guides are circles of class ring
        assert r.text.count("<line ") == len(sub["edges"])
        assert r.text.count('class="node center"') == 1
        among = [e for e in sub["edges"] if "flux-1-pro" not in (e["source"], e["target"])]
        assert among, "the sample graph links neighbours among themselves"
        assert r.text.count('<line class="among ') == len(among), "edges among the neighbours are drawn"
        assert f'href="/v1/artifacts/flux-1-pro/neighborhood?depth={depth}"' in r.text
        assert 'id="legend"' in r.text
        depths = sorted({int(d) for d in re.findall(r'data-depth="(\d)"', r.text)})
        assert depths == list(range(depth + 1))
        drawn[depth] = re.findall(r'data-id="([^"]+)" data-depth="(\d)"', r.text)
        # every label lies inside the view box: none is cut off
        left, top, width, height = (float(v) for v in re.search(r'viewBox="([^"]+)"', r.text)[1].split())
        for x, y, anchor, label in re.findall(r'<text x="([-\d.]+)" y="([-\d.]+)" text-anchor="(\w+)">([^<]*)<',
                                              r.text):
            w = len(label) * 6.4
            x0 = float(x) - {"start": 0, "middle": w / 2, "end": w}[anchor]
            assert left <= x0, label
            assert x0 + w <= left + width, label
            assert top <= float(y) - 12, label
            assert float(y) <= top + height, label
        assert "<script" not in r.text
    assert drawn[1] != drawn[2], "depth 2 draws something else than depth 1"
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


@pytest.mark.parametrize(("query", "problem"), [
    ("", "the first artifact is missing; the second artifact is missing"),
    ("?a=flux-1-pro&b=", "the second artifact is missing"),
    ("?a=flux 1 pro&b=gpt-4o", "“flux 1 pro” is not an artifact id"),
    ("?a=gpt-4o&b=GPT-4o", "pick two different artifacts"),
    ("?a=" + "x" * 5000 + "&b=y", "is not an artifact id"),
])
def test_the_compare_form_never_answers_422(client: TestClient, query: str, problem: str) -> None:
    r = client.get("/compare" + query, follow_redirects=False)
    assert r.status_code == 200
    text = _text(r.text)
    assert "Compare two artifacts" in text
    assert problem in text
    assert 'href="/compare/' in r.text  # suggested pairs to start from


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


def test_home_shows_risers_and_fallers_since_the_last_run(home_copy: Path, tmp_path: Path) -> None:
    import json as jsonlib
    from datetime import date

    from api.app import create_app
    from api.application import MatchGraph
    from tests.fixtures import api_settings

    # a day on which people keep choosing one thinly compared model over popular ones
    rows = [{"search_id": f"boost-{i}", "ts": "2026-02-01T10:00:00Z", "query": "image model",
             "results": ["gpt-image-1", "flux-1-pro", "dall-e-3", "imagen-3"], "clicks": ["imagen-3"]}
            for i in range(300)]
    extra = tmp_path / "boost.jsonl"
    extra.write_text("".join(jsonlib.dumps(r) + "\n" for r in rows))
    with MatchGraph(api_settings(home_copy)) as mg:
        mg.ingest_logs([extra])
        report = mg.score(date(2026, 2, 1))
    assert report.changed
    with TestClient(create_app(api_settings(home_copy))) as c:
        history = c.get("/v1/artifacts/imagen-3/history").json()["items"]
        assert [p["as_of"] for p in history] == ["2026-02-01", "2026-02-01"]
        change = history[1]["rank"] - history[0]["rank"]
        assert change > 0
        assert c.get("/v1/artifacts/imagen-3").json()["standing"]["rank_change"] == change
        text = _text(c.get("/").text)
        assert "Since the last run" in text
        assert f"Imagen 3 +{change} to {history[1]['rank']} /100" in text
