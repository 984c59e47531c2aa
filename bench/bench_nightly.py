"""A nightly run over synthetic logs on the embedded store: seconds, rows/s and peak RSS.

Run: ``python -m bench.bench_nightly [--searches 1000000] [--artifacts 5000]``. Generates the data
with ``matchgraph synth``'s generator (files of 250,000 searches), then times one ``nightly`` run
(ingest + rescore) in this process, and a second run with nothing new.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from api.nightly import run_nightly

from bench.common import machine, peak_rss_mib
from graph.embedded import EmbeddedStore
from graph.settings import Settings
from ingest.synth import write_synth
from queries.scoring import ScoringConfig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--searches", type=int, default=1_000_000)
    parser.add_argument("--artifacts", type=int, default=5_000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        files = write_synth(root / "gen", args.artifacts, args.searches, seed=11, per_file=250_000)
        (root / "catalogs").mkdir()
        (root / "logs").mkdir()
        shutil.move(files[0], root / "catalogs" / files[0].name)
        for path in files[1:]:
            shutil.move(path, root / "logs" / path.name)
        result_rows = sum(1 for p in (root / "logs").iterdir() for _ in open(p, "rb"))
        print(f"generated {args.searches:,} searches in {len(files) - 1} files: {time.perf_counter() - start:.1f} s")
        settings = Settings(MATCHGRAPH_HOME=root / "home", NEO4J_URI=None)  # type: ignore[call-arg]
        store = EmbeddedStore(root / "home")
        rss_before = peak_rss_mib()
        start = time.perf_counter()
        report = run_nightly(store, settings, root / "catalogs", root / "logs", ScoringConfig(), lambda _: None)
        elapsed = time.perf_counter() - start
        print(f"nightly run: {elapsed:.1f} s, {report.ingested:,} records ({result_rows:,} log lines), "
              f"{report.ingested / elapsed:,.0f} records/s, rescored {report.rescored} (target <= 60 s)")
        print(f"peak RSS: {peak_rss_mib():.0f} MiB (before the run: {rss_before:.0f} MiB; target <= 4096 MiB)")
        start = time.perf_counter()
        again = run_nightly(store, settings, root / "catalogs", root / "logs", ScoringConfig(), lambda _: None)
        print(f"second run, nothing new: {time.perf_counter() - start:.1f} s, ingested {again.ingested}")


if __name__ == "__main__":
    main()
