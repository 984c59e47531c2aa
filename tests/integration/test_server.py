"""The local Neo4j server (`ops.neo4j_local`) really starts, answers, serves the Browser and APOC, and stops.

One server for the module, on non-default ports so a developer's own Neo4j on 7687/7474 is left alone.
Its home is given as a relative path (resolved against a temporary working directory) because
MATCHGRAPH_HOME defaults to the relative ``.matchgraph``. The stop test runs last (file order).
Locally the module skips when Java or Maven (for a cold jar cache) is missing; under CI=true it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from ops import neo4j_local as server

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

BOLT_PORT = 7697
HTTP_PORT = 7484
TOUR = server.BrowserTour(guide_url="http://127.0.0.1:8123/browser/guide.html",
                          style_url="http://127.0.0.1:8123/browser/matchgraph.grass")


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _process_gone(pid: int) -> bool:
    """Gone, or a zombie: in containers whose init does not reap, the JVM lingers as one."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    return fields[0] == "Z"


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.ServerInfo]:
    has_java = shutil.which("java") or os.environ.get("JAVA_HOME")
    if not has_java:
        _skip_or_fail("no Java runtime (java on PATH or JAVA_HOME)")
    if shutil.which("mvn") is None and not (server.jar_cache_dir() / ".complete").exists():
        _skip_or_fail("no Maven to fetch the Neo4j jars and no jar cache yet")
    taken = [p for p in (BOLT_PORT, HTTP_PORT) if _port_taken(p)]
    if taken:
        _skip_or_fail(f"ports {taken} are in use")

    workdir = tmp_path_factory.mktemp("neo4j-server")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(workdir)
        info = server.start(Path(".matchgraph"), bolt_port=BOLT_PORT, http_port=HTTP_PORT, timeout_s=300,
                            tour=TOUR)
    try:
        yield info
    finally:
        server.stop(info.home)


def test_relative_home_is_resolved(started: server.ServerInfo) -> None:
    assert started.home.is_absolute()
    assert started.home.name == ".matchgraph"
    conf = (started.home / "neo4j" / "conf" / "neo4j.conf").read_text()
    assert f"server.directories.data={started.home / 'neo4j' / 'data'}\n" in conf
    assert f"server.bolt.listen_address=127.0.0.1:{BOLT_PORT}\n" in conf


def test_the_browser_may_fetch_the_tour_and_opens_it_on_connecting(started: server.ServerInfo) -> None:
    conf = (started.home / "neo4j" / "conf" / "neo4j.conf").read_text().splitlines()
    assert "browser.remote_content_hostname_whitelist=guides.neo4j.com,localhost,127.0.0.1" in conf
    assert ("browser.post_connect_cmd=style http://127.0.0.1:8123/browser/matchgraph.grass; "
            "guide http://127.0.0.1:8123/browser/guide.html") in conf
    # the Browser reads them from the server after connecting: the server took them as written
    with GraphDatabase.driver(started.bolt_uri, auth=(started.user, started.password)) as driver:
        records, _, _ = driver.execute_query(
            "SHOW SETTINGS YIELD name, value WHERE name STARTS WITH 'browser.' RETURN name, value")
    settings = {r["name"]: r["value"] for r in records}
    assert settings["browser.remote_content_hostname_whitelist"] == "guides.neo4j.com,localhost,127.0.0.1"
    assert settings["browser.post_connect_cmd"] == TOUR.post_connect


def test_bolt_answers_with_the_stored_password(started: server.ServerInfo) -> None:
    password_file = started.home / "neo4j" / "password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert password_file.read_text().strip() == started.password
    assert started.bolt_uri == f"bolt://127.0.0.1:{BOLT_PORT}"

    with GraphDatabase.driver(started.bolt_uri, auth=(started.user, started.password)) as driver:
        records, _, _ = driver.execute_query("RETURN 1 AS one")
    assert [r["one"] for r in records] == [1]


def test_auth_is_enforced(started: server.ServerInfo) -> None:
    with (
        GraphDatabase.driver(started.bolt_uri, auth=(started.user, "not-the-password")) as driver,
        pytest.raises(AuthError),
    ):
        driver.verify_connectivity()


def test_env_file_exports_the_credentials(started: server.ServerInfo) -> None:
    env_file = started.home / "neo4j" / "env"
    assert started.env_file == env_file
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert env_file.read_text().splitlines() == [
        f"export NEO4J_URI=bolt://127.0.0.1:{BOLT_PORT}",
        "export NEO4J_USER=neo4j",
        f"export NEO4J_PASSWORD={started.password}",
    ]


def test_browser_is_served(started: server.ServerInfo) -> None:
    assert started.browser_url == f"http://127.0.0.1:{HTTP_PORT}/browser/"
    with urllib.request.urlopen(started.browser_url, timeout=10) as resp:
        status, body = resp.status, resp.read().decode("utf-8", errors="replace")
    assert status == 200
    assert "<title>Neo4j Browser</title>" in body

    # The discovery document is what the Browser uses to find Bolt: it must name our port, not 7687.
    with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/", timeout=10) as resp:
        discovery = json.loads(resp.read())
    assert discovery["bolt_direct"] == started.bolt_uri
    assert discovery["neo4j_version"] == server.NEO4J_VERSION
    assert discovery["neo4j_edition"] == "community"


def test_apoc_answers(started: server.ServerInfo) -> None:
    with GraphDatabase.driver(started.bolt_uri, auth=(started.user, started.password)) as driver:
        records, _, _ = driver.execute_query(
            "RETURN apoc.version() AS version, apoc.coll.sum([1, 2, 3]) AS total, "
            "apoc.text.join(['a', 'b'], '-') AS joined"
        )
    assert [(r["version"], r["total"], r["joined"]) for r in records] == [(server.NEO4J_VERSION, 6.0, "a-b")]


def test_status_reports_the_running_server(started: server.ServerInfo) -> None:
    assert server.status(started.home) == started


def test_start_again_reports_the_running_server(started: server.ServerInfo) -> None:
    again = server.start(started.home, bolt_port=BOLT_PORT + 1, http_port=HTTP_PORT + 1)
    assert again == started  # same pid and the ports it runs on, not the ones asked for


def test_stop_stops_the_server(started: server.ServerInfo) -> None:
    run = started.home / "neo4j" / "run"
    assert (run / "neo4j.pid").read_text().strip() == str(started.pid)

    assert server.stop(started.home) is True

    assert _process_gone(started.pid)
    assert not (run / "neo4j.pid").exists()
    assert server.status(started.home) is None
    assert not _port_taken(BOLT_PORT)
    assert server.stop(started.home) is False


def test_a_clean_stop_records_the_class_archive_and_the_next_start_maps_it(
        started: server.ServerInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs after the module's server stopped. A jar cache of its own (links to the real jars), so
    the machine's archive, or the server that may be recording it, is not involved."""
    real = server.ensure_jars()
    cache = tmp_path / "jars"
    cache.mkdir()
    for name in ("lib", "plugins"):
        (cache / name).symlink_to(real / name)
    shutil.copy(real / ".complete", cache / ".complete")
    monkeypatch.setenv(server.CACHE_ENV, str(cache))
    monkeypatch.delenv(server.CLASS_ARCHIVE_ENV, raising=False)
    home = tmp_path / "home"
    folder = cache / "class-archive"

    first = server.start(home, bolt_port=BOLT_PORT + 2, http_port=HTTP_PORT + 2, timeout_s=300)
    claims = list(folder.glob("*.claim"))
    assert [c.read_text().strip() for c in claims] == [str(first.pid)]
    assert not list(folder.glob("*.jsa"))
    assert server.stop(home) is True
    archives = list(folder.glob("*.jsa"))
    assert len(archives) == 1
    assert archives[0].stat().st_size > 10 * 2**20  # thousands of classes, not an empty file
    assert not list(folder.glob("*.claim"))
    assert not list(folder.glob("*.part"))

    second = server.start(home, bolt_port=BOLT_PORT + 2, http_port=HTTP_PORT + 2, timeout_s=300)
    try:
        maps = Path(f"/proc/{second.pid}/maps").read_text()
        assert str(archives[0]) in maps  # the JVM mapped the archive, it did not just get the flag
        with GraphDatabase.driver(second.bolt_uri, auth=(second.user, second.password)) as driver:
            records, _, _ = driver.execute_query("RETURN apoc.coll.sum([1, 2]) AS total")
        assert records[0]["total"] == 3.0
        assert not list(folder.glob("*.claim"))  # a start that maps the archive records nothing
    finally:
        assert server.stop(home) is True
    assert archives[0].exists()
