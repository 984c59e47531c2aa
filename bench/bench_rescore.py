"""The rescore of a real-size store, as an operator runs it: ``matchgraph score`` in its own process.

Run: ``python -m bench.bench_rescore --home DIR [--rounds 5] [--against CHECKOUT]``.

Each round starts ``python -m api.cli score --json`` over the store at ``--home`` (an embedded
store already ingested and scored once, so the rating fit starts from stored ratings as the nightly
job's does) and reads its wall time, user and system CPU, peak RSS and minor page faults from the
child's resource usage, and the time of each step from its JSON. ``--against`` names another
checkout (say, ``git worktree add /tmp/base HEAD~3``): its ``score`` runs in the same rounds,
interleaved with this one, over the same store, so a noisy machine slows both sides alike. Every
run writes a score run to the store; the scores stay the same (the ranks do not move).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine

HERE = Path(__file__).resolve().parents[1]
PROCESS = ("wall_s", "user_s", "sys_s", "rss_mib", "faults")
"""What each run's resource usage gives; the rest of a run's figures are its steps."""


def run(checkout: Path, home: Path) -> dict[str, float]:
    """One ``score`` in its own process: wall, CPU, peak RSS, faults and the steps it printed."""
    env = {**os.environ, "MATCHGRAPH_HOME": str(home), "PYTHONPATH": str(checkout)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "api.cli", "score", "--json"], cwd=checkout, env=env,
                                 stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own resource usage
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode:
            raise SystemExit(f"score failed in {checkout}: {err.read().strip()[-400:]}")
        steps = json.loads(out.read())["steps"]
    figures = {"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
               "rss_mib": usage.ru_maxrss / 1024, "faults": float(usage.ru_minflt)}
    figures.update({k: float(v) for k, v in steps.items() if "." not in k})
    return figures


def _summary(label: str, runs: list[dict[str, float]]) -> None:
    print(f"{label}: {len(runs)} run(s), min / median")
    for key in [*PROCESS, *(k for k in runs[0] if k not in PROCESS)]:
        values = [r[key] for r in runs if key in r]
        if not values:
            continue
        fmt = "{:,.0f}" if key == "faults" else "{:.2f}"
        print(f"  {key:<18} {fmt.format(min(values)):>10} / {fmt.format(statistics.median(values)):>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="an embedded store, ingested and scored")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout, run interleaved on the same store")
    args = parser.parse_args()
    print(machine())
    sides = [("this checkout", HERE)] + ([("against " + str(args.against), args.against)] if args.against else [])
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _ in sides}
    for i in range(args.rounds):
        order = sides if i % 2 == 0 else sides[::-1]
        for label, checkout in order:
            figures = run(checkout, args.home)
            results[label].append(figures)
            print(f"round {i + 1} {label}: {figures['wall_s']:.2f} s wall, {figures['user_s']:.2f} user, "
                  f"{figures['sys_s']:.2f} sys, {figures['rss_mib']:,.0f} MiB, {figures['faults']:,.0f} faults",
                  flush=True)
    for label, runs in results.items():
        _summary(label, runs)


if __name__ == "__main__":
    main()
