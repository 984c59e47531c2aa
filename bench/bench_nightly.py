"""Ingesting search logs on the embedded store, side by side with a bare polars script doing the same.

Run: ``python -m bench.bench_nightly [--searches 100000,300000,1000000] [--artifacts 5000]
[--rounds 3] [--per-file 250000]``. For each size it generates a deterministic synthetic catalog and
log (``matchgraph synth``), then, in interleaved rounds, runs each side in a fresh process:

* ``bare``: ``bench.bare_aggregates`` (polars reads the files and computes the same aggregates);
* ``ingest``: ``matchgraph ingest logs`` into a new store (validation, rejects, ledger, aggregation,
  one atomic snapshot with the catalog already in), the same work plus what makes it safe;
* ``score``: ``matchgraph score`` on the result (reported apart: the bare side does not score).

It prints min and median seconds, rows/s, peak RSS (``/usr/bin/time``) and the ratio of medians, and
the time per search across sizes (a flat line means linear time). Both sides must report the same
number of co-match pairs and preference cells, or the run stops.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import machine
from ingest.synth import write_synth

ROOT = Path(__file__).resolve().parents[1]


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS MiB and stdout of one command in a fresh process."""
    done = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)
    seconds, kib = re.findall(r"TIME ([\d.]+) (\d+)", done.stderr)[-1]
    return float(seconds), int(kib) / 1024, done.stdout


def _store_counts(home: Path) -> dict[str, int]:
    from graph.embedded import EmbeddedStore
    from graph.tables import Table, preference_cells

    store = EmbeddedStore(home)
    return {"co_matched": store.table(Table.CO_MATCHED).height,
            "preference_cells": preference_cells(store.table(Table.PREFERRED_OVER)).height}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--searches", default="100000,300000,1000000")
    parser.add_argument("--artifacts", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-file", type=int, default=250_000)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "MATCHGRAPH_"))}
    print(f"machine: {machine()}; {args.rounds} interleaved rounds per size; {args.artifacts:,} artifacts")
    per_search: dict[str, dict[int, float]] = {"bare": {}, "ingest": {}}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        root = Path(tmp)
        for size in (int(x) for x in args.searches.split(",")):
            data = root / f"data-{size}"
            files = write_synth(data / "gen", args.artifacts, size, seed=11, per_file=args.per_file)
            catalog, logs = files[0], [str(p) for p in files[1:]]
            times: dict[str, list[float]] = {"bare": [], "ingest": [], "score": []}
            rss: dict[str, list[float]] = {"bare": [], "ingest": [], "score": []}
            for n in range(args.rounds):
                home = root / f"home-{size}-{n}"
                subprocess.run([sys.executable, "-m", "api.cli", "ingest", "catalog", str(catalog), "--home",
                                str(home)], cwd=ROOT, env=env, check=True, capture_output=True)
                out = root / f"bare-{size}-{n}"
                for side, argv in (
                    ("bare", [sys.executable, "-m", "bench.bare_aggregates", "--out", str(out), *logs]),
                    ("ingest", [sys.executable, "-m", "api.cli", "ingest", "logs", *logs, "--home", str(home)]),
                    ("score", [sys.executable, "-m", "api.cli", "score", "--home", str(home)]),
                ):
                    seconds, mib, stdout = _timed(argv, env)
                    times[side].append(seconds)
                    rss[side].append(mib)
                    if side == "bare":
                        bare_counts = dict(re.findall(r"(\w+)=(\d+)", stdout))
                if n == 0:
                    counts = _store_counts(home)
                    for key, value in counts.items():
                        if int(bare_counts[key]) != value:
                            raise SystemExit(f"the two sides disagree on {key}: bare {bare_counts[key]}, "
                                             f"matchgraph {value}")
                    print(f"{size:,} searches: {counts['co_matched']:,} co-match pairs and "
                          f"{counts['preference_cells']:,} preference cells on both sides")
                shutil.rmtree(home, ignore_errors=True)
                shutil.rmtree(out, ignore_errors=True)
            for side in ("bare", "ingest", "score"):
                med = statistics.median(times[side])
                print(f"  {side:<7} min {min(times[side]):7.2f} s  median {med:7.2f} s  "
                      f"{size / med:>10,.0f} searches/s  peak RSS {max(rss[side]):7.0f} MiB")
                if side in per_search:
                    per_search[side][size] = med / size * 1e6
            ratio = statistics.median(times["ingest"]) / statistics.median(times["bare"])
            print(f"  ingest / bare (medians): {ratio:.2f}x")
            shutil.rmtree(data, ignore_errors=True)
    print("microseconds per search (median), by size: a flat line is linear time")
    for side, by_size in per_search.items():
        print(f"  {side:<7} " + "  ".join(f"{size:>10,}: {us:6.1f}" for size, us in by_size.items()))


if __name__ == "__main__":
    main()
