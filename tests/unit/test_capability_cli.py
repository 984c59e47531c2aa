"""``matchgraph capabilities``, ``best`` and ``search`` on the shipped samples, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env["MATCHGRAPH_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300, check=False)


def test_capabilities_best_and_search_commands(sample_home: Path, tmp_path: Path) -> None:
    listed = run(sample_home, "capabilities", "--limit", "3", "--json")
    assert listed.returncode == 0, listed.stderr
    page = json.loads(listed.stdout)
    assert [c["id"] for c in page["items"]] == ["open-weight-text-generation", "chat-and-instruction-following",
                                                "chat-completion"]
    assert page["items"][0]["artifacts"] == 74 == page["items"][0]["statements"]
    assert len(page["items"][0]["members"]) == 50  # the 50 best ranked of its 74
    assert page["next_offset"] == 3
    best = run(sample_home, "best", "draw pictures from a prompt", "--limit", "3", "--json")
    assert best.returncode == 0, best.stderr
    board = json.loads(best.stdout)
    assert (board["kind"], board["need"]) == ("capability", "text-to-image-generation")
    assert [e["place"] for e in board["items"]] == [1, 2, 3]
    table = run(sample_home, "best", "text-to-image-generation", "--limit", "3")
    assert table.returncode == 0, table.stderr
    assert board["items"][0]["id"] in table.stdout
    assert "by its id or name" in table.stderr
    searched = run(sample_home, "search", "text to image", "--limit", "3")
    assert searched.returncode == 0, searched.stderr
    assert "capabilities: Text-to-image generation (text-to-image-generation, 16 artifacts)" in searched.stderr
    assert "has Text-to-image generation (16 artifacts have it)" in searched.stdout
    unknown = run(sample_home, "best", "zzzz qqqq", "--json")
    assert unknown.returncode == 2
    assert "error: no capability matches 'zzzz qqqq'" in unknown.stderr
    empty = run(tmp_path / "nothing", "capabilities")
    assert empty.returncode == 3  # no store there: it says so, and creates none
