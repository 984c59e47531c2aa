"""A Neo4j server of a test module's own, for tests that stop, freeze or rebuild it.

Driven through the ``matchgraph neo4j`` commands (as a user would), on free ports under a
temporary home; its credentials come from the ``env`` file ``start`` writes. Locally the tests
that need one skip when Java is missing; under CI=true they fail.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from graph.settings import Settings
from tests.fixtures import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]


class Server:
    """A Neo4j server of a test module's own, driven through the ``matchgraph neo4j`` commands."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.bolt, self.http = free_port(), free_port()
        self.pid = 0
        self.env: dict[str, str] = {}

    def _cli(self, *args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "api.cli", "neo4j", *args, "--home", str(self.home)],
                              cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    def start(self) -> None:
        out = self._cli("start", "--bolt-port", str(self.bolt), "--http-port", str(self.http), "--timeout", "300")
        pid = re.search(r"^pid\s+(\d+)", out, re.MULTILINE)
        env = re.search(r"^env\s+source (\S+)", out, re.MULTILINE)
        assert pid is not None, out
        assert env is not None, out
        self.pid = int(pid[1])
        for line in Path(env[1]).read_text().splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            self.env[name] = shlex.split(value)[0]

    def stop(self) -> None:
        self._cli("stop")

    def import_from(self, embedded_home: Path) -> str:
        """``matchgraph neo4j import`` of that embedded store into this server's database."""
        out = self._cli("import", "--from", str(embedded_home), "--timeout", "300")
        self.start()  # the import restarted the server: same ports, new pid
        return out

    def settings(self, home: Path, **extra: object) -> Settings:
        values: dict[str, object] = {"MATCHGRAPH_HOME": home, "NEO4J_URI": self.env["NEO4J_URI"],
                                     "NEO4J_USER": self.env["NEO4J_USER"],
                                     "NEO4J_PASSWORD": self.env["NEO4J_PASSWORD"], **extra}
        return Settings(**values)  # type: ignore[arg-type]


def own_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Server]:
    """A started server for a module fixture (``yield from own_server(...)``), stopped afterwards."""
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("no Java runtime to run a Neo4j server of the tests' own")
        pytest.skip("no Java runtime to run a Neo4j server of the tests' own")
    server = Server(tmp_path_factory.mktemp(name) / "home")
    server.start()
    try:
        yield server
    finally:
        server.stop()
