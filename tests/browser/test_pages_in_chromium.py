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


@pytest.fixture(scope="module")
def base_url(sample_home: Path) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(api_settings(sample_home)), host="127.0.0.1", port=port,
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


@pytest.fixture
def page(browser: Any, base_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page that records every URL it asks for and leaves a screenshot behind."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    p = context.new_page()
    p.set_default_timeout(15_000)
    p.requested = []
    p.on("request", lambda req: p.requested.append(req.url))
    yield p
    _shot(p, f"{request.node.name}-end")
    external = [u for u in p.requested if not u.startswith(base_url)]
    context.close()
    assert external == [], f"the page reached outside the server: {external}"


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _assert_draws(page: Any, sub: dict[str, Any]) -> None:
    """The SVG on the page has a circle per node and a line per edge of the API's subgraph."""
    assert page.locator("svg#graph circle").count() == len(sub["nodes"])
    assert page.locator("svg#graph line").count() == len(sub["edges"])


def _api(base_url: str, path: str, **params: Any) -> Any:
    return httpx.get(base_url + path, params=params).json()


def test_compare_page(page: Any, base_url: str) -> None:
    api = _api(base_url, "/v1/compare/dalle-3-xl-lora-v2/flux-1-pro")
    page.goto(f"{base_url}/compare/dalle-3-xl-lora-v2-vs-flux-1-pro")
    assert page.title() == "dalle-3-xl-lora-v2 vs FLUX.1 Pro · matchgraph"
    assert page.inner_text("#headline") == api["headline"]
    matched = page.locator("#compare-table tr.matched td").all_inner_texts()
    assert matched == [str(api["a"]["times_matched"]), str(api["b"]["times_matched"])]
    ranks = page.locator("#compare-table tr.rankrow td").all_inner_texts()
    assert ranks == [f"{api['a']['rank']}/100", f"{api['b']['rank']}/100"]
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
    assert page.locator("#history ol li").count() == 1
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
    _assert_draws(page, _api(base_url, "/v1/artifacts/flux-1-pro/neighborhood", depth=2, limit=30))


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
