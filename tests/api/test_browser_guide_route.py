"""The guide and style as the Neo4j Browser fetches them: ``/browser/guide.html`` and
``/browser/matchgraph.grass``, their content, content types and CORS (the Browser fetches from its
own origin, with a preflight for the guide)."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.guide import GUIDE_PATH, STYLE_PATH, Guide, guide, parse_params
from tests.fixtures import api_settings

ROOT = Path(__file__).resolve().parents[2]
BROWSER = "http://127.0.0.1:7474"
PREFLIGHT = {"Origin": BROWSER, "Access-Control-Request-Method": "GET",
             "Access-Control-Request-Headers": "cache-control,pragma"}


class Slides(HTMLParser):
    """The slides as the Browser cuts them: each ``<slide>``'s heading and runnable blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.slides: list[dict[str, list[str]]] = []
        self._in: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "slide":
            self.slides.append({"h3": [], "runnable": []})
        elif tag in ("title", "h3") or (tag == "pre" and "runnable" in classes):
            self._in, self._text = ("runnable" if tag == "pre" else tag), []

    def handle_endtag(self, tag: str) -> None:
        if self._in is not None and tag == ("pre" if self._in == "runnable" else self._in):
            text = "".join(self._text)
            if self._in == "title":
                self.title = text
            else:
                self.slides[-1][self._in].append(text)
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._text.append(data)


def _slides(body: str) -> Slides:
    parser = Slides()
    parser.feed(body)
    return parser


def test_the_guide_is_served_as_slides(client: TestClient) -> None:
    resp = client.get(GUIDE_PATH)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    page = _slides(resp.text)
    source = (ROOT / "queries" / "browser" / "guide.md").read_text()
    parsed = Guide.parse(source)
    assert page.title == parsed.title == "Exploring the match graph"
    assert [s["h3"] for s in page.slides] == [[parsed.title]] + [[s.title] for s in parsed.sections]
    # every cypher block of the markdown is a runnable block of the page, in order, verbatim, with
    # the address of the server the guide came from in place of the default one
    blocks = [b.strip() for b in source.split("```cypher\n")[1:]]
    blocks = [b[:b.index("```")].strip().replace("http://127.0.0.1:8000", "http://testserver") for b in blocks]
    assert [r for s in page.slides for r in s["runnable"]] == blocks
    assert blocks[:2] == [f":guide http://testserver{GUIDE_PATH}", f":style http://testserver{STYLE_PATH}"]
    assert len(blocks) == 2 + len(parsed.sections) + len(parsed.queries())  # commands, a :param each, queries
    assert "<script" not in resp.text  # the Browser strips scripts anyway: the page needs none


def test_every_section_is_its_own_slide_with_its_queries(client: TestClient) -> None:
    page = _slides(client.get(GUIDE_PATH).text)
    for slide, section in zip(page.slides[1:], guide().sections, strict=True):
        queries = [q.text for q in guide().queries() if q.section == section.title]
        assert [r for r in slide["runnable"] if not r.startswith(":")] == queries


def test_the_style_is_served_as_it_ships(client: TestClient) -> None:
    resp = client.get(STYLE_PATH)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"
    assert resp.content == (ROOT / "queries" / "browser" / "matchgraph.grass").read_bytes()
    assert "node.Artifact {" in resp.text


@pytest.mark.parametrize("path", [GUIDE_PATH, STYLE_PATH])
def test_the_browser_origin_may_fetch_both(client: TestClient, path: str) -> None:
    pre = client.options(path, headers=PREFLIGHT)
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == BROWSER
    assert {"pragma", "cache-control"} <= {h.strip().lower() for h in
                                           pre.headers["access-control-allow-headers"].split(",")}
    got = client.get(path, headers={"Origin": BROWSER, "Pragma": "no-cache", "Cache-Control": "no-cache"})
    assert got.status_code == 200
    assert got.headers["access-control-allow-origin"] == BROWSER
    assert "Origin" in got.headers["vary"]


def test_other_origins_and_other_paths_get_no_cors(client: TestClient) -> None:
    stranger = {**PREFLIGHT, "Origin": "http://127.0.0.1:9999"}
    assert client.options(GUIDE_PATH, headers=stranger).status_code == 400
    assert "access-control-allow-origin" not in client.get(GUIDE_PATH, headers={"Origin": stranger["Origin"]}).headers
    # the Browser's origin reaches the guide, not the API
    api = client.get("/v1/top", params={"limit": 1}, headers={"Origin": BROWSER})
    assert api.status_code == 200
    assert "access-control-allow-origin" not in api.headers


def test_the_browser_origins_come_from_the_settings(sample_home: Path) -> None:
    mine = "http://127.0.0.1:7477"
    settings = api_settings(sample_home, MATCHGRAPH_BROWSER_ORIGINS=[mine],
                            MATCHGRAPH_CORS_ORIGINS=["https://front.example"])
    with TestClient(create_app(settings)) as c:
        ok = c.options(GUIDE_PATH, headers={**PREFLIGHT, "Origin": mine})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == mine
        assert c.options(GUIDE_PATH, headers=PREFLIGHT).status_code == 400  # 7474 is not listed now
        # the API's own CORS still serves its origin, and does not answer for the guide's
        front = c.options("/v1/top", headers={**PREFLIGHT, "Origin": "https://front.example",
                                              "Access-Control-Request-Headers": "if-none-match"})
        assert front.headers["access-control-allow-origin"] == "https://front.example"
        assert c.options("/v1/top", headers={**PREFLIGHT, "Origin": mine}).status_code == 400


def test_the_served_address_follows_the_request(client: TestClient) -> None:
    body = client.get(GUIDE_PATH, headers={"Host": "localhost:8123"}).text
    assert html.escape(f":style http://localhost:8123{STYLE_PATH}", quote=False) in body
    assert "127.0.0.1:8000" not in body


def test_a_guide_without_a_title_or_with_two_same_sections_is_refused() -> None:
    with pytest.raises(ValueError, match="title"):
        Guide.parse("no title\n## A\n")
    with pytest.raises(ValueError, match="share a title"):
        Guide.parse("# T\n## A\nx\n## A\ny\n")
    parsed = Guide.parse("# T\nintro\n## A\n```cypher\n## not a heading\n```\n## B\n")
    assert [s.title for s in parsed.sections] == ["A", "B"]


def test_param_lines() -> None:
    assert parse_params(":param {a: 'x', b: 'y-1.2'}") == {"a": "x", "b": "y-1.2"}
    for bad in (":param a => 'x'", ":param {a: 1}", ":param {a: 'x' b: 'y'}", ":params {a: 'x'}"):
        with pytest.raises(ValueError, match="looks like"):
            parse_params(bad)


def test_queries_carry_the_parameters_set_before_them() -> None:
    parsed = Guide.parse("# T\n## A\n```cypher\n:param {id: 'x'}\n```\n```cypher\nRETURN $id\n```\n"
                         "```cypher\n:style http://h/s.grass\n```\n## B\n```cypher\nRETURN 1\n```\n"
                         "```cypher\n:param {id: 'y'}\n```\n```cypher\nRETURN $id\n```\n")
    assert [(q.section, q.index, q.text, q.params) for q in parsed.queries()] == [
        ("A", 0, "RETURN $id", {"id": "x"}), ("B", 0, "RETURN 1", {"id": "x"}), ("B", 1, "RETURN $id", {"id": "y"}),
    ]
