"""The local Neo4j's Browser tour without a server: which URLs it takes, and the conf lines it writes.
(tests/integration/test_server.py starts a real server with one.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from api.guide import GUIDE_PATH, STYLE_PATH
from api.neo4j_cli import _tour
from graph.errors import InvalidInput
from ops import neo4j_local
from ops.neo4j_local import BrowserTour


def _conf(tmp_path: Path, tour: BrowserTour | None) -> list[str]:
    lay = neo4j_local._Layout(tmp_path)
    lay.make_dirs()
    neo4j_local._write_conf(lay, tmp_path / "plugins", 7690, 7477, tour)
    return lay.conf_file.read_text().splitlines()


def test_the_conf_lets_the_browser_fetch_the_tour_and_run_it(tmp_path: Path) -> None:
    tour = BrowserTour(guide_url="http://10.1.2.3:8000/browser/guide.html",
                       style_url="https://style.example/matchgraph.grass")
    assert tour.hosts == ["style.example", "10.1.2.3"]
    conf = _conf(tmp_path, tour)
    assert "browser.remote_content_hostname_whitelist=guides.neo4j.com,localhost,style.example,10.1.2.3" in conf
    assert ("browser.post_connect_cmd=style https://style.example/matchgraph.grass; "
            "guide http://10.1.2.3:8000/browser/guide.html") in conf


def test_without_a_tour_the_browser_keeps_its_defaults(tmp_path: Path) -> None:
    assert not [line for line in _conf(tmp_path, None) if line.startswith("browser.")]


def test_a_local_host_is_named_once(tmp_path: Path) -> None:
    tour = _tour("http://localhost:8000/")
    assert tour == BrowserTour(guide_url="http://localhost:8000" + GUIDE_PATH,
                               style_url="http://localhost:8000" + STYLE_PATH)
    assert "browser.remote_content_hostname_whitelist=guides.neo4j.com,localhost" in _conf(tmp_path, tour)


def test_the_cli_builds_the_tour_from_the_serve_address() -> None:
    assert _tour("http://127.0.0.1:8000") == BrowserTour(guide_url="http://127.0.0.1:8000/browser/guide.html",
                                                         style_url="http://127.0.0.1:8000/browser/matchgraph.grass")
    assert _tour("") is None
    assert _tour("  ") is None


@pytest.mark.parametrize("url", [
    "ftp://127.0.0.1/guide.html",  # not http(s)
    "127.0.0.1:8000/guide.html",  # no scheme
    "http:///guide.html",  # no host
    "http://127.0.0.1:8000/a; guide http://evil/x",  # a second Browser command
    "http://127.0.0.1:8000/a\nbrowser.post_connect_cmd=x",  # a second conf line
    "http://127.0.0.1:8000/it's",  # a quote the Browser's command splitter would honour
    "http://127.0.0.1:8000/guide.html#x",  # what neo4j.conf might read as a comment
])
def test_urls_that_would_break_the_conf_or_the_command_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput, match="plain http"):
        BrowserTour(guide_url=url, style_url="http://127.0.0.1:8000/s.grass")
    with pytest.raises(InvalidInput, match="plain http"):
        BrowserTour(guide_url="http://127.0.0.1:8000/g.html", style_url=url)
