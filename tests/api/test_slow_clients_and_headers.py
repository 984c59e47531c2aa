"""The HTTP server under hostile clients: deadlines for slow headers and stalled bodies, and the
security headers every response carries."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.fixtures import free_port

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def served(sample_home: Path) -> Iterator[int]:
    """``matchgraph serve`` over the samples with one-second deadlines."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "MATCHGRAPH_"))}
    env.update(MATCHGRAPH_HEADER_TIMEOUT_S="1", MATCHGRAPH_BODY_IDLE_TIMEOUT_S="1")
    proc = subprocess.Popen([sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port),
                             "--home", str(sample_home), "--log-level", "warning"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "matchgraph serve exited"
                assert time.monotonic() < deadline, "matchgraph serve did not start"
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _closed_after(sock: socket.socket, limit_s: float) -> float:
    """Seconds until the server closes ``sock`` (reads return b""), failing past ``limit_s``."""
    sock.settimeout(limit_s)
    began = time.monotonic()
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {limit_s} s")
    return time.monotonic() - began


def test_a_client_that_sends_nothing_is_cut_off(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        assert _closed_after(sock, 5.0) < 4.0


def test_headers_sent_a_byte_at_a_time_are_cut_off(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.4)
        sock.sendall(b"X-Slow: 1\r\n")  # still no end of headers
        assert _closed_after(sock, 5.0) < 4.0


def test_a_stalled_body_is_cut_off_and_a_prompt_request_still_works(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        sock.sendall(b"POST /v1/admin/score HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        assert _closed_after(sock, 5.0) < 4.0
    assert httpx.get(f"http://127.0.0.1:{served}/health", timeout=5).json() == {"status": "ok"}
    keep = httpx.Client(timeout=5)
    assert keep.get(f"http://127.0.0.1:{served}/v1/top?limit=1").status_code == 200
    time.sleep(1.5)  # an idle keep-alive connection is closed; the client opens a new one
    assert keep.get(f"http://127.0.0.1:{served}/v1/top?limit=1").status_code == 200
    keep.close()


@pytest.mark.parametrize("path", ["/", "/a/flux-1-pro", "/v1/top", "/v1/artifacts/nope-nope", "/docs",
                                  "/static/style.css", "/health"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    policy = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert ("script-src 'self' 'unsafe-inline'" in policy) == path.startswith("/docs")
    if not path.startswith("/docs"):
        assert "script-src 'none'" in policy


def test_answers_name_the_version_they_come_from(client: TestClient, sample_home: Path) -> None:
    from graph.embedded import EmbeddedStore

    version = EmbeddedStore(sample_home).version()
    r = client.get("/v1/artifacts/flux-1-pro")
    assert r.headers["x-graph-version"] == version
    assert client.get("/compare/dalle-3-xl-lora-v2-vs-flux-1-pro").headers["x-graph-version"] == version
