"""The local Neo4j's Browser tour without a server: which URLs it takes, and the conf lines it writes.
(tests/integration/test_server.py starts a real server with one.)"""

from __future__ import annotations

import os
import shutil
import subprocess
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


# -- the class-data archive ------------------------------------------------------------------------
def _archive_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "jars"
    cache.mkdir()
    (cache / ".complete").write_text("pom-digest\n")
    monkeypatch.setenv(neo4j_local.CACHE_ENV, str(cache))
    monkeypatch.delenv(neo4j_local.CLASS_ARCHIVE_ENV, raising=False)
    return cache


def test_the_first_start_records_the_class_archive_and_a_clean_stop_keeps_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    cache = _archive_cache(tmp_path, monkeypatch)
    archive = neo4j_local._class_archive(sys.executable, cache)
    assert archive is not None
    assert archive.final.parent == cache / "class-archive"
    flags, recording = neo4j_local._archive_flags(archive)
    assert recording
    assert flags == [f"-XX:ArchiveClassesAtExit={archive.part}"]
    assert archive.claim.exists()
    # a second start while the first records: no archive flags, and it does not record
    live = os.getpid()
    archive.claim.write_text(f"{live}\n")
    assert neo4j_local._archive_flags(archive) == ([], False)
    # the recorder's JVM wrote the archive on its way out; a clean stop keeps it
    archive.part.write_bytes(b"archive bytes")
    neo4j_local._settle_archive(live, clean=True)
    assert archive.final.read_bytes() == b"archive bytes"
    assert not archive.part.exists()
    assert not archive.claim.exists()
    assert neo4j_local._archive_flags(archive) == ([f"-XX:SharedArchiveFile={archive.final}"], False)


def test_a_killed_recorder_leaves_no_archive_and_the_next_start_records_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    cache = _archive_cache(tmp_path, monkeypatch)
    archive = neo4j_local._class_archive(sys.executable, cache)
    assert archive is not None
    assert neo4j_local._archive_flags(archive)[1]
    archive.claim.write_text(f"{os.getpid()}\n")
    archive.part.write_bytes(b"half an archive")
    neo4j_local._settle_archive(os.getpid(), clean=False)  # SIGKILL was needed
    assert not archive.final.exists()
    assert not archive.part.exists()
    assert not archive.claim.exists()
    # a recorder that died without any stop: its claim names a pid that is gone
    assert neo4j_local._archive_flags(archive)[1]
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    archive.claim.write_text(gone.stdout)
    archive.part.write_bytes(b"half an archive")
    flags, recording = neo4j_local._archive_flags(archive)
    assert recording
    assert flags == [f"-XX:ArchiveClassesAtExit={archive.part}"]
    assert not archive.part.exists()  # the dead recorder's part went
    # another server's stop does not touch this recording
    archive.claim.write_text("4194999\n")
    neo4j_local._settle_archive(os.getpid(), clean=True)
    assert archive.claim.exists()


def test_the_archive_is_per_jdk_and_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    cache = _archive_cache(tmp_path, monkeypatch)
    ours = neo4j_local._class_archive(sys.executable, cache)
    other = neo4j_local._class_archive(shutil.which("sh") or "/bin/sh", cache)
    assert ours is not None
    assert other is not None
    assert ours.final != other.final
    (cache / ".complete").write_text("another pom\n")  # other jars: another archive
    assert neo4j_local._class_archive(sys.executable, cache) != ours
    monkeypatch.setenv(neo4j_local.CLASS_ARCHIVE_ENV, "off")
    assert neo4j_local._class_archive(sys.executable, cache) is None
    assert neo4j_local._archive_flags(None) == ([], False)


def test_a_zombie_leader_whose_other_threads_still_run_has_not_exited() -> None:
    """The JVM's main thread can end before its other threads (which still hold the ports): the
    process is not gone until every thread is."""
    import sys
    import time

    script = ("import ctypes, threading, time\n"
              "threading.Thread(target=time.sleep, args=(2.0,)).start()\n"
              "ctypes.CDLL(None).pthread_exit(None)\n")
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 10
        while neo4j_local._cmdline(child.pid) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert neo4j_local._cmdline(child.pid) is None  # the leader is a zombie already
        assert neo4j_local._exited(child.pid) is False  # but the sleeping thread runs on
        while not neo4j_local._exited(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert neo4j_local._exited(child.pid) is True
    finally:
        child.wait(timeout=10)
    assert neo4j_local._exited(child.pid) is True  # reaped: no /proc entry at all
