"""How long the command line takes to start, against a bare ``python -c pass`` in the same run.

Run: ``python -m bench.bench_startup [--rounds N]``. Each round runs, in turn: ``python -c pass``,
``matchgraph --help``, ``matchgraph show flux-1-pro`` over a store holding the samples, and the
library imports ``show`` cannot avoid (``import polars, pydantic_settings``) as a second baseline.
It prints min and median wall time of each, the difference to ``python -c pass`` (the time
matchgraph adds), and the import time ``python -X importtime`` reports for the CLI module alone.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine

ROOT = Path(__file__).resolve().parents[1]


def _clock(argv: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def _import_ms(module: str, env: dict[str, str]) -> float:
    """Cumulative import time of ``module`` as ``python -X importtime`` reports it."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    last = [line for line in done.stderr.splitlines() if re.search(rf"\|\s*{re.escape(module)}$", line)][-1]
    return int(last.split("|")[1]) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "MATCHGRAPH_"))}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        subprocess.run([sys.executable, "-m", "api.cli", "demo", "--home", str(home)], cwd=ROOT, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import polars, pydantic_settings": [sys.executable, "-c", "import polars, pydantic_settings"],
            "matchgraph --help": [sys.executable, "-m", "api.cli", "--help"],
            "matchgraph show flux-1-pro": [sys.executable, "-m", "api.cli", "show", "flux-1-pro", "--home",
                                           str(home)],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():  # interleaved: a busy moment hits every command alike
                times[name].append(_clock(argv, env))
        imports = {module: statistics.median(_import_ms(module, env) for _ in range(5))
                   for module in ("api.cli", "queries.engine", "graph.embedded")}
    base = times["python -c pass"]
    print(f"machine: {machine()}; {args.rounds} interleaved rounds")
    print(f"{'command':<34} {'min s':>8} {'median s':>9} {'median - python -c pass':>24}")
    for name, values in times.items():
        extra = statistics.median(values) - statistics.median(base)
        print(f"{name:<34} {min(values):8.3f} {statistics.median(values):9.3f} {extra:24.3f}")
    for module, ms in imports.items():
        print(f"import time of {module:<20} {ms:8.1f} ms (median of 5, python -X importtime)")


if __name__ == "__main__":
    main()
