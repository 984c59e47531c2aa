"""The pages in a real headless Chromium (Debian's, driven by Playwright), against a live server.

Each test loads a page, checks what a reader sees, follows a link or submits a form, and keeps a
screenshot under ``test-artifacts/screenshots``. Chromium is installed by ``.ci/run``; locally a
missing browser skips these tests, under ``CI=true`` it fails them.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from tests.fixtures import api_settings, free_port

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# No background traffic: this machine's network is closed and Chromium would keep retrying.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _serve(home: Path) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(api_settings(home)), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def base_url(sample_home: Path) -> Iterator[str]:
    yield from _serve(sample_home)


@pytest.fixture(scope="module")
def bare_url(catalog_only_home: Path) -> Iterator[str]:
    """The sample catalog scored without any search logs: the no-evidence state."""
    yield from _serve(catalog_only_home)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true: the browser tests must run")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser: Any, origin: str, name: str, width: int) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    p = context.new_page()
    p.set_default_timeout(15_000)
    p.requested = []
    p.on("request", lambda req: p.requested.append(req.url))
    yield p
    _shot(p, f"{name}-end")
    external = [u for u in p.requested if not u.startswith(origin)]
    context.close()
    assert external == [], f"the page reached outside the server: {external}"


@pytest.fixture
def page(browser: Any, base_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh desktop-sized page that records every URL it asks for and leaves a screenshot behind."""
    yield from _page(browser, base_url, request.node.name, 1200)


@pytest.fixture
def phone(browser: Any, base_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The same, 390 px wide (a phone held upright)."""
    yield from _page(browser, base_url, request.node.name, 390)


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _assert_draws(page: Any, sub: dict[str, Any]) -> None:
    """The SVG on the page has a circle per node and a line per edge of the API's subgraph, and
    every label lies inside the drawing (none is cut off)."""
    assert page.locator("svg#graph .node circle").count() == len(sub["nodes"])
    assert page.locator("svg#graph line").count() == len(sub["edges"])
    outside = page.evaluate("""() => {
        const svg = document.querySelector('svg#graph').getBoundingClientRect();
        return [...document.querySelectorAll('svg#graph text')].filter(t => {
            const b = t.getBoundingClientRect();
            return b.left < svg.left - 0.5 || b.right > svg.right + 0.5 || b.top < svg.top - 0.5
                || b.bottom > svg.bottom + 0.5;
        }).map(t => t.textContent);
    }""")
    assert outside == [], f"labels cut off: {outside}"


def _overflow(page: Any) -> int:
    """How far the page reaches past the right edge of the window (0: nothing to scroll sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def _api(base_url: str, path: str, **params: Any) -> Any:
    return httpx.get(base_url + path, params=params).json()


def test_compare_page(page: Any, base_url: str) -> None:
    api = _api(base_url, "/v1/compare/dalle-3-xl-lora-v2/flux-1-pro")
    page.goto(f"{base_url}/compare/dalle-3-xl-lora-v2-vs-flux-1-pro")
    assert page.title() == "dalle-3-xl-lora-v2 vs FLUX.1 Pro · matchgraph"
    assert page.inner_text("#headline") == api["headline"]
    matched = page.locator("#compare-table tr.matched td").all_inner_texts()
    assert matched == [str(api["a"]["times_matched"]), str(api["b"]["times_matched"])]
    ranks = page.locator("#compare-table tr.rankrow td .rank").all_inner_texts()
    assert ranks == [str(api["a"]["rank"]), str(api["b"]["rank"])]
    ranges = page.locator("#compare-table tr.rankrow td .range").all_inner_texts()
    assert ranges == [f"#{s['place_range'][0]}–{s['place_range'][1]} of {s['of']} models"
                      for s in (api["a"]["standing"], api["b"]["standing"])]
    pair = api["head_to_head"]
    assert page.inner_text("#h2h-shown") == f"{pair['shown_together']} searches"
    assert page.inner_text("#h2h-a") == str(pair["a_over_b"])
    assert page.inner_text("#h2h-b") == str(pair["b_over_a"])
    assert page.inner_text("#head-to-head p") == pair["sentence"]
    # the verdict is right below the table
    table = page.locator("#compare-table").bounding_box()
    verdict = page.locator("#verdict").bounding_box()
    assert 0 <= verdict["y"] - (table["y"] + table["height"]) < 80
    # a sub-score bar is drawn as wide as its score: measure the rendered boxes
    cell = page.locator('#compare-table tr[data-score="adoption"] td').nth(1)
    bar = cell.locator(".bar").bounding_box()
    fill = cell.locator(".fill").bounding_box()
    assert fill["width"] / bar["width"] == pytest.approx(api["b"]["scores"]["adoption"] / 100, abs=0.02)
    assert page.inner_text("#verdict p") == api["verdict"]
    caps = api["capabilities"]
    shown = page.locator("#capability-comparison details.cap").count()
    assert shown == len(caps["shared"]) + len(caps["only_a"]) + len(caps["only_b"])
    assert len(caps["only_a"]) + len(caps["shared"]) >= 1  # every statement of A is shown, shared or its own
    _shot(page, "compare")
    first_alt = api["alternatives"][0]
    page.click(f'#alternatives a[href="/a/{first_alt["id"]}"]')
    page.wait_for_url(f"{base_url}/a/{first_alt['id']}")
    assert first_alt["name"] in page.inner_text("h1")


def test_profile_page_and_its_neighborhood(page: Any, base_url: str) -> None:
    api = _api(base_url, "/v1/artifacts/flux-1-pro")
    page.goto(f"{base_url}/a/flux-1-pro")
    assert page.inner_text("#scores h2") == f"Rank {api['rank']}/100"
    assert page.inner_text("#times-matched") == str(api["times_matched"])
    contributions = [float(t) for t in page.locator("#scores td.contribution").all_inner_texts()]
    assert sum(contributions) == pytest.approx(api["rank"], abs=0.5)
    history = _api(base_url, "/v1/artifacts/flux-1-pro/history")["items"]
    assert page.locator("#history ol li").count() == len(history) == 1
    assert page.locator("#rank-chart circle").count() == len(history)
    assert page.locator("#rank-chart title").first.text_content() == f"{history[0]['as_of']}: rank {api['rank']}"
    assert page.inner_text("#starting-price") == api["price"]["starting"]
    assert "pairwise comparisons" in page.inner_text("#quality-explain")
    _shot(page, "profile")
    page.click("text=See its neighborhood in the match graph")
    page.wait_for_url(f"{base_url}/a/flux-1-pro/neighborhood")
    _assert_draws(page, _api(base_url, "/v1/artifacts/flux-1-pro/neighborhood", depth=1, limit=30))
    box = page.locator("svg#graph").bounding_box()
    assert box["width"] > 300, "the graph is drawn at a readable size"
    assert box["height"] > 200, "the graph is drawn at a readable size"
    _shot(page, "neighborhood")
    page.click("text=depth 2")
    page.wait_for_url(f"{base_url}/a/flux-1-pro/neighborhood?depth=2")
    deeper = _api(base_url, "/v1/artifacts/flux-1-pro/neighborhood", depth=2, limit=30)
    _assert_draws(page, deeper)
    assert page.locator('svg#graph .node[data-depth="2"]').count() == sum(n["depth"] == 2 for n in deeper["nodes"]) > 0
    assert page.locator("#legend li").count() >= 5
    _shot(page, "neighborhood-depth-2")


def test_search_from_the_box_then_compare(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    page.fill('header input[name="q"]', "image generation")
    page.press('header input[name="q"]', "Enter")
    page.wait_for_url(f"{base_url}/search?q=image+generation")
    hits = _api(base_url, "/v1/search", q="image generation", limit=20)["items"]
    rows = page.locator("table.list tbody tr")
    assert rows.count() == len(hits)
    assert rows.first.get_attribute("data-id") == hits[0]["id"]
    _shot(page, "search")
    rows.nth(1).locator("text=vs ").click()
    page.wait_for_url(f"{base_url}/compare/{hits[0]['id']}-vs-{hits[1]['id']}")
    assert page.inner_text("h1") == f"{hits[0]['name']} vs {hits[1]['name']}"


def test_home_compare_form_and_a_typo(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    assert page.locator("table.list tbody tr").count() == 10
    page.fill('input[name="a"]', "dall-e-3")
    page.fill('input[name="b"]', "flux-1-prx")
    page.click('.compareform button')
    page.wait_for_load_state()
    assert page.inner_text("h1") == "404 · Not Found"
    _shot(page, "not-found")
    assert "flux-1-prx" in page.inner_text("#problem")
    page.click('a[href="/a/flux-1-pro"]')
    page.wait_for_url(f"{base_url}/a/flux-1-pro")
    assert "FLUX.1 Pro" in page.inner_text("h1")


def test_api_docs_render_offline(page: Any, base_url: str) -> None:
    """Swagger UI comes from the server itself (the page fixture fails on any other host)."""
    page.goto(f"{base_url}/docs")
    page.wait_for_selector("#operations-compare-compareArtifacts")
    assert "/v1/compare/{a}/{b}" in page.inner_text("#operations-compare-compareArtifacts")
    assert page.locator(".opblock").count() == 19
    _shot(page, "docs")


PAGES_TO_FIT = ("/", "/compare/dalle-3-xl-lora-v2-vs-flux-1-pro", "/compare/flux-1-pro-vs-gradio", "/a/flux-1-pro",
                "/a/flux-1-pro/neighborhood?depth=2", "/search?q=image+generation", "/compare?a=flux-1-pro",
                "/a/no-such-artifact", "/docs")


def test_every_page_fits_a_phone(phone: Any, base_url: str) -> None:
    """At 390 px nothing scrolls sideways: tables fold, the header wraps, the graph scrolls in its frame."""
    for path in PAGES_TO_FIT:
        phone.goto(base_url + path)
        phone.wait_for_load_state()
        assert _overflow(phone) == 0, path
        if phone.locator("header.top button").count():  # the header's Search button is whole on screen
            box = phone.locator("header.top button").bounding_box()
            assert box["x"] + box["width"] <= 390, path
        _shot(phone, "phone-" + (path.strip("/").replace("/", "_").replace("?", "_") or "home"))
    phone.goto(base_url + "/compare/dalle-3-xl-lora-v2-vs-flux-1-pro")
    cells = phone.locator("#compare-table tr.rankrow td")
    assert cells.count() == 2
    assert cells.nth(1).bounding_box()["x"] + cells.nth(1).bounding_box()["width"] <= 390  # the second column shows


def test_the_no_evidence_state(browser: Any, bare_url: str) -> None:
    """The sample catalog without logs: no number without evidence, no claim of search data."""
    for width in (1200, 390):
        for p in _page(browser, bare_url, f"no-evidence-{width}", width):
            api = _api(bare_url, "/v1/artifacts/gpt-4o")
            assert api["rank"] is None
            p.goto(f"{bare_url}/a/gpt-4o")
            assert p.inner_text("#scores h2") == "Not ranked"
            assert "15% of the rank's weight rests on evidence" in p.inner_text("#not-ranked")
            dashes = p.locator('#scores td .na[title="no evidence for this sub-score"]').count()
            assert dashes == sum(v is None for v in api["scores"].values()) == 4
            assert _overflow(p) == 0
            _shot(p, f"no-evidence-profile-{width}")
            p.goto(f"{bare_url}/compare/gpt-4o-vs-claude-sonnet-4-5")
            headline = p.inner_text("#headline")
            assert "no search logs" in headline
            assert "search data" not in headline
            assert "ranks higher" not in headline
            assert p.locator("#compare-table tr.rankrow td .na").all_inner_texts() == ["not ranked", "not ranked"]
            assert _overflow(p) == 0
            _shot(p, f"no-evidence-compare-{width}")
            p.goto(bare_url + "/")
            assert "No search logs have been ingested" in p.inner_text("#data-note")
            _shot(p, f"no-evidence-home-{width}")
