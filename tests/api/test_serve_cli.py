"""``matchgraph serve`` starts the app on the given port over the given home."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from graph.embedded import EmbeddedStore
from tests.fixtures import free_port


def test_serve_answers_over_the_home_it_was_given(sample_home: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "MATCHGRAPH_"))}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port),
         "--home", str(sample_home), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "matchgraph serve exited"
                assert time.monotonic() < deadline, "matchgraph serve did not start"
                time.sleep(0.2)
        assert ready.json() == {"status": "ready", "store": "embedded",
                                "version": EmbeddedStore(sample_home).version()}
        top = httpx.get(f"http://127.0.0.1:{port}/v1/top?limit=1", timeout=10).json()
        assert top["items"][0]["rank"] is not None
        assert "server" not in {k.lower() for k in ready.headers}, "no server banner"
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode in (0, -15), "a clean stop (uvicorn re-raises SIGTERM after its graceful shutdown)"
