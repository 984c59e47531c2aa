"""The wheel as a user gets it: built from the source tree, installed into a fresh environment, and the
demo run from elsewhere prints the seed page from the samples inside the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pytest

from ingest import sample_files

ROOT = Path(__file__).resolve().parents[2]
# Local state that is not part of the source; build/ and *.egg-info would leak stale files into the wheel.
NOT_SOURCE = shutil.ignore_patterns(".git", ".*cache", "__pycache__", ".matchgraph", "test-artifacts", "build",
                                    "dist", "*.egg-info", ".venv", ".env", ".hypothesis")


def _run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"{args}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


class Installed(NamedTuple):
    wheel: Path
    venv: Path
    samples: Path  # where the installed package finds its samples
    demo: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel (from a copy of the tree, so the checkout gets no build/ folder), install it into
    a venv that borrows only the dependencies from this machine, and run its demo outside the repo."""
    tmp = tmp_path_factory.mktemp("packaging")
    # The venv must see its own matchgraph, not this checkout (PYTHONPATH) or the editable install.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith(("NEO4J_", "MATCHGRAPH_"))}
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", tmp / "dist", source],
         tmp, env, 600)
    wheel = next((tmp / "dist").glob("matchgraph-*.whl"))
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], tmp, env, 120)
    python = venv / "bin" / "python"
    # pip comes from the machine's site-packages; it installs into the venv it runs in.
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "--quiet", wheel],
         tmp, env, 300)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    where = _run([python, "-c", "import ingest; print(ingest.sample_files().catalog)"], elsewhere, env, 60)
    demo = _run([venv / "bin" / "matchgraph", "demo", "--home", tmp / "home"], elsewhere, env, 600)
    return Installed(wheel, venv, Path(where.stdout.strip()).parent, demo)


def test_the_wheel_ships_the_samples_and_not_their_builder(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = wheel.namelist()
        for name in ("catalog.jsonl", "searches.synthetic.jsonl.gz", "README.md"):
            assert wheel.read(f"ingest/samples/{name}") == (sample_files().folder / name).read_bytes(), name
    assert {n.split("/")[0] for n in names} == {"api", "graph", "ingest", "queries", "ops",
                                                "matchgraph-0.1.0.dist-info"}
    with zipfile.ZipFile(installed.wheel) as wheel:  # what `matchgraph neo4j start` and `serve` read
        for name in ("ops/pom.xml", "queries/browser/guide.md", "queries/browser/matchgraph.grass"):
            assert wheel.read(name) == (ROOT / name).read_bytes(), name
    assert not [n for n in names if "build_samples" in n or n == "ingest/samples.py"]


def test_the_installed_demo_prints_the_seed_page(installed: Installed) -> None:
    assert installed.samples.is_relative_to(installed.venv)  # the venv's copy, not the checkout's
    page = installed.demo.stdout
    assert page.startswith("# dalle-3-xl-lora-v2 vs FLUX.1 Pro\n")
    assert "| Capabilities | 6 decomposed | 13 decomposed |" in page
    listed = (pl.read_ndjson(installed.samples / "searches.synthetic.jsonl.gz")
              .select(pl.col("results").list.unique()).explode("results").group_by("results").len())
    times = {a: int(listed.filter(pl.col("results") == a)["len"].item()) for a in ("dalle-3-xl-lora-v2", "flux-1-pro")}
    assert f"| Times Matched | {times['dalle-3-xl-lora-v2']} | {times['flux-1-pro']} |" in page
    assert "read 216, ingested 216" in installed.demo.stderr
    assert "ingested 25000, rejected 0" in installed.demo.stderr
