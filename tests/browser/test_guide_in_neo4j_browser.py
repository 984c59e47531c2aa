"""The guide in the real Neo4j Browser: Chromium opens the Browser of a local Neo4j started by
``ops.neo4j_local`` with matchgraph's tour, connects, and the style and the guide load by themselves
from a running matchgraph app; ``:guide <url>`` typed by hand loads it again.

The Neo4j server is this module's own (free ports, an empty database: the slides need no data; the
numbers the queries return are checked in tests/integration/test_browser_guide.py). Locally the module
skips without Java, a jar cache (or Maven to fill it) or Chromium; under ``CI=true`` it fails.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from api.app import create_app
from api.guide import GUIDE_PATH, STYLE_PATH, guide
from ops import neo4j_local
from tests.browser.test_pages_in_chromium import CHROMIUM, CHROMIUM_ARGS
from tests.fixtures import api_settings, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class Setup:
    def __init__(self, app_url: str, info: neo4j_local.ServerInfo) -> None:
        self.app_url = app_url
        self.info = info
        self.guide_url = app_url + GUIDE_PATH


@pytest.fixture(scope="module")
def setup(sample_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    if CHROMIUM is None:
        _skip_or_fail("Chromium is not installed (apt-get install chromium)")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        _skip_or_fail("no Java runtime (java on PATH or JAVA_HOME)")
    if shutil.which("mvn") is None and not (neo4j_local.jar_cache_dir() / ".complete").exists():
        _skip_or_fail("no Maven to fetch the Neo4j jars and no jar cache yet")
    bolt, http, port = free_port(), free_port(), free_port()
    app_url = f"http://127.0.0.1:{port}"
    settings = api_settings(sample_home, MATCHGRAPH_BROWSER_ORIGINS=[f"http://127.0.0.1:{http}"])
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    tour = neo4j_local.BrowserTour(guide_url=app_url + GUIDE_PATH, style_url=app_url + STYLE_PATH)
    home = tmp_path_factory.mktemp("neo4j-browser-guide")
    try:
        info = neo4j_local.start(home, bolt_port=bolt, http_port=http, timeout_s=300, tour=tour)
        try:
            yield Setup(app_url, info)
        finally:
            neo4j_local.stop(home)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def page(setup: Setup, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The Browser, connected. Only this machine is reached: the Browser's calls to fonts and
    telemetry hosts are cut off (and never needed)."""
    from playwright.sync_api import Route, sync_playwright

    def local_only(route: Route) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", local_only)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        pg.fetched = []
        pg.on("response", lambda resp: pg.fetched.append((resp.url, resp.status)))
        pg.goto(setup.info.browser_url)
        pg.fill("input[data-testid=username]", setup.info.user)
        pg.fill("input[data-testid=password]", setup.info.password)
        pg.click("button[data-testid=connect]")
        try:
            yield pg
        finally:
            SHOTS.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(SHOTS / f"{request.node.name}.png"))
            browser.close()


def _drawer(page: Any) -> Any:
    drawer = page.locator("[data-testid=guidesDrawer]")
    drawer.wait_for()
    return drawer


def test_connecting_opens_the_style_and_the_guide(page: Any, setup: Setup) -> None:
    g = guide()
    drawer = _drawer(page)
    first = drawer.locator("h3")
    assert first.inner_text() == g.title
    opening = " ".join(g.intro.split(".")[0].split())
    assert opening.startswith("One slide per question")
    assert opening in " ".join(drawer.inner_text().split())
    # one slide per section after the opening one; the Browser folds a long row of page numbers,
    # but it always shows the last, and none past it
    slides = 1 + len(g.sections)
    assert page.locator(f"[data-testid=pagination-{slides}]").count() == 1
    assert page.locator(f"[data-testid=pagination-{slides + 1}]").count() == 0
    # the style came along: its frame shows the artifacts' colour from the .grass file
    style = page.locator("[data-testid=frame]", has_text=f":style {setup.app_url}{STYLE_PATH}")
    assert "#4C8EDA" in style.inner_text()

    page.click("[data-testid=guideNextSlide]")
    assert drawer.locator("h3").inner_text() == g.sections[0].title
    query = next(q for q in g.queries() if q.section == g.sections[0].title)
    drawer.locator("pre.runnable", has_text=query.text.splitlines()[0]).click()
    editor = page.locator("[data-testid=activeEditor]")
    for line in query.text.splitlines():
        assert line.strip() in " ".join(editor.inner_text().split()), line
    fetched = [status for url, status in page.fetched if url == setup.guide_url]
    assert fetched == [200]


def test_one_command_opens_the_guide(page: Any, setup: Setup) -> None:
    g = guide()
    drawer = _drawer(page)
    page.click("[data-testid=pagination-3]")
    assert drawer.locator("h3").inner_text() == g.sections[1].title
    page.click("[data-testid=activeEditor]")
    page.keyboard.type(f":guide {setup.guide_url}")
    page.keyboard.press("Enter")
    deadline = time.monotonic() + 30
    while len([u for u, _ in page.fetched if u == setup.guide_url]) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert [s for u, s in page.fetched if u == setup.guide_url] == [200, 200]
    page.locator("[data-testid=guidesDrawer] h3", has_text=g.title).wait_for()
    assert drawer.locator("h3").inner_text() == g.title  # back on the first slide
