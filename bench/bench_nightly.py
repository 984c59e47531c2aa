"""Ingesting search logs on the embedded store, side by side with a bare polars script doing the same.

Run: ``python -m bench.bench_nightly [--searches 100000,300000,1000000] [--artifacts 5000]
[--rounds 3] [--per-file 250000] [--bare whole|per-file] [--data DIR] [--max-rss-gib 14]
[--no-bare] [--no-score]``. For each size it generates a deterministic synthetic catalog and log
(``matchgraph synth``), then, in interleaved rounds, runs each side in a fresh process:

* ``bare``: ``bench.bare_aggregates`` (polars reads the files and computes the same aggregates; with
  ``--bare per-file`` it aggregates file by file into a running total, so it fits at 10M searches);
* ``ingest``: ``matchgraph ingest logs`` into a new store (validation, rejects, ledger, aggregation,
  one atomic snapshot with the catalog already in), the same work plus what makes it safe;
* ``score``: ``matchgraph score`` on the result (reported apart: the bare side does not score).

It prints min and median seconds, rows/s, peak RSS (``/usr/bin/time``) and the ratio of medians, and
the time per search across sizes (a flat line means linear time), in wall seconds and in CPU seconds
(user + system, which other work on a shared machine disturbs far less than the wall clock). Both
sides must report the same number of co-match pairs and preference cells, or the run stops.

The machine is shared, so every command is watched: when its resident memory (with its children's)
passes ``--max-rss-gib`` it is killed and the run stops, instead of taking the machine into the OOM
killer. Generated files go to a temporary folder, or stay in ``--data DIR`` to be reused by the next
run (the generator is deterministic, so the same arguments give the same files).
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
import time
from pathlib import Path

from bench.common import machine
from ingest.synth import write_synth

ROOT = Path(__file__).resolve().parents[1]


def _tree_rss_kib(pid: int) -> int:
    """Resident KiB of a process and all its descendants (0 once it is gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += _tree_rss_kib(int(child))
    except (OSError, StopIteration):
        pass
    return total


def _timed(argv: list[str], env: dict[str, str], max_rss_mib: float) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS MiB and stdout of one command in a fresh process, killed
    (and the run stopped) if it holds more than ``max_rss_mib``."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(["/usr/bin/time", "-f", "TIME %e %U %S %M", *argv], cwd=ROOT, env=env, stdout=out,
                                stderr=err, text=True, start_new_session=True)
        while proc.poll() is None:
            if _tree_rss_kib(proc.pid) / 1024 > max_rss_mib:
                os.killpg(proc.pid, 9)
                proc.wait()
                raise SystemExit(f"stopped {' '.join(argv[:4])}...: over {max_rss_mib:,.0f} MiB resident")
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv[:4])}... failed ({proc.returncode}): {stderr[-2000:]}")
    seconds, user, system, kib = re.findall(r"TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", stderr)[-1]
    return float(seconds), float(user) + float(system), int(kib) / 1024, stdout


def _generated(folder: Path, artifacts: int, size: int, per_file: int) -> list[Path]:
    """The catalog and log files for one size, generated once into ``folder`` (``DONE`` marks a
    whole set, so an interrupted generation starts again)."""
    done = folder / "DONE"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_synth(folder, artifacts, size, seed=11, per_file=per_file)
        done.write_text(f"{artifacts} {size} 11 {per_file}\n")
    return [folder / "catalog.jsonl", *sorted(folder.glob("searches-*.synthetic.jsonl"))]


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
    parser.add_argument("--bare", choices=("whole", "per-file"), default="whole",
                        help="the bare script reads all files at once, or aggregates file by file")
    parser.add_argument("--data", type=Path, help="keep generated files here and reuse them")
    parser.add_argument("--max-rss-gib", type=float, default=14.0,
                        help="kill any side (and stop) when it holds more than this")
    parser.add_argument("--no-score", dest="score", action="store_false", help="leave out the score step")
    parser.add_argument("--no-bare", dest="bare_side", action="store_false",
                        help="leave out the bare script (the curve's wall time per search, when the bare side "
                             "would take longer than the ingest being measured)")
    args = parser.parse_args()
    limit = args.max_rss_gib * 1024
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "MATCHGRAPH_"))}
    print(f"machine: {machine()}; {args.rounds} interleaved rounds per size; {args.artifacts:,} artifacts; "
          f"bare: {args.bare}")
    per_search: dict[str, dict[int, float]] = {"bare": {}, "ingest": {}, "bare cpu": {}, "ingest cpu": {}}
    sides = tuple(side for side, wanted in (("bare", args.bare_side), ("ingest", True), ("score", args.score))
                  if wanted)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        root = Path(tmp)
        for size in (int(x) for x in args.searches.split(",")):
            data = (args.data or root) / f"data-{size}-{args.artifacts}-{args.per_file}"
            files = _generated(data, args.artifacts, size, args.per_file)
            catalog, logs = files[0], [str(p) for p in files[1:]]
            times: dict[str, list[float]] = {side: [] for side in sides}
            cpu: dict[str, list[float]] = {side: [] for side in sides}
            rss: dict[str, list[float]] = {side: [] for side in sides}
            for n in range(args.rounds):
                home = root / f"home-{size}-{n}"
                subprocess.run([sys.executable, "-m", "api.cli", "ingest", "catalog", str(catalog), "--home",
                                str(home)], cwd=ROOT, env=env, check=True, capture_output=True)
                out = root / f"bare-{size}-{n}"
                for side, argv in (
                    ("bare", [sys.executable, "-m", "bench.bare_aggregates", "--out", str(out),
                              *(["--per-file"] if args.bare == "per-file" else []), *logs]),
                    ("ingest", [sys.executable, "-m", "api.cli", "ingest", "logs", *logs, "--home", str(home)]),
                    ("score", [sys.executable, "-m", "api.cli", "score", "--home", str(home)]),
                ):
                    if side not in sides:
                        continue
                    seconds, cpu_seconds, mib, stdout = _timed(argv, env, limit)
                    times[side].append(seconds)
                    cpu[side].append(cpu_seconds)
                    rss[side].append(mib)
                    if side == "bare":
                        bare_counts = dict(re.findall(r"(\w+)=(\d+)", stdout))
                if n == 0 and "bare" in sides:
                    counts = _store_counts(home)
                    for key, value in counts.items():
                        if int(bare_counts[key]) != value:
                            raise SystemExit(f"the two sides disagree on {key}: bare {bare_counts[key]}, "
                                             f"matchgraph {value}")
                    print(f"{size:,} searches: {counts['co_matched']:,} co-match pairs and "
                          f"{counts['preference_cells']:,} preference cells on both sides")
                shutil.rmtree(home, ignore_errors=True)
                shutil.rmtree(out, ignore_errors=True)
            print(f"  load average {os.getloadavg()[1]:.1f} over the last 5 minutes")
            for side in sides:
                med, cpu_med = statistics.median(times[side]), statistics.median(cpu[side])
                print(f"  {side:<7} min {min(times[side]):7.2f} s  median {med:7.2f} s  "
                      f"{size / med:>10,.0f} searches/s  peak RSS {max(rss[side]):7.0f} MiB  "
                      f"CPU min {min(cpu[side]):7.2f} s  median {cpu_med:7.2f} s")
                if side in per_search:
                    per_search[side][size] = med / size * 1e6
                    per_search[f"{side} cpu"][size] = cpu_med / size * 1e6
            if "bare" in sides:
                ratio = statistics.median(times["ingest"]) / statistics.median(times["bare"])
                print(f"  ingest / bare (medians): {ratio:.2f}x")
            if args.data is None:
                shutil.rmtree(data, ignore_errors=True)
    print("microseconds per search (median), by size: a flat line is linear time")
    for side, by_size in per_search.items():
        if not by_size:
            continue
        print(f"  {side:<10} " + "  ".join(f"{size:>10,}: {us:6.1f}" for size, us in by_size.items()))


if __name__ == "__main__":
    main()
