"""The input readers at the sizes users run, against bare polars doing the same decoding.

Run: ``python -m bench.bench_readers [--searches 1000000] [--catalog-artifacts 100000] [--data DIR]``.

Data comes from ``matchgraph synth`` (kept in ``--data`` between runs): 1M native searches over
5,000 artifacts, gzipped, and a 100k-artifact ``catalog.jsonl``. Each measurement runs in a fresh
process (so its peak RSS is its own), the variants interleaved, three rounds; min and median are
printed.

* ``logs: read_logs`` reads, decodes and validates every search (:func:`ingest.logs.read_logs`).
* ``logs: bare polars`` is the baseline: gunzip, ``pl.read_ndjson`` with the same six columns and
  types, timestamps parsed, ids lower-cased; no validation, no rejects, no line numbers.
* ``csv logs`` / ``parquet logs``: the same searches as gzipped CSV (ids ``;``-separated) and as
  Parquet (``ts`` a timestamp column), each against the bare polars read of the same file.
* ``catalog: read_catalog`` validates every artifact (:func:`ingest.catalog.read_catalog`);
  ``catalog: bare pydantic`` is ``Artifact.model_validate_json`` per line with no reader around it,
  and ``catalog: bare polars`` a ``pl.read_ndjson`` of the file for scale (it checks nothing).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import machine, peak_rss_mib

ROOT = Path(__file__).resolve().parents[1]


def _synth(out: Path, artifacts: int, searches: int) -> None:
    subprocess.run([sys.executable, "-m", "api.cli", "synth", "--artifacts", str(artifacts), "--searches",
                    str(searches), "--out", str(out), "--per-file", str(max(searches, 1))],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def prepare(data: Path, searches: int, catalog_artifacts: int) -> dict[str, Path]:
    """The inputs by kind: gzipped JSON lines, gzipped CSV and Parquet logs, and a JSON-lines catalog."""
    import polars as pl

    logs_dir = data / f"logs-{searches}"
    packed = logs_dir / "searches-0000.jsonl.gz"
    if not packed.exists():
        _synth(logs_dir, 5_000, searches)
        with open(logs_dir / "searches-0000.jsonl", "rb") as src, gzip.open(packed, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        (logs_dir / "searches-0000.jsonl").unlink()
    csv_path, parquet = logs_dir / "searches.csv.gz", logs_dir / "searches.parquet"
    if not csv_path.exists() or not parquet.exists():
        with gzip.open(packed, "rb") as fh:
            frame = pl.read_ndjson(fh.read(), schema=_schema())
        text = frame.with_columns(pl.col("results", "clicks").list.join(";")).write_csv()
        csv_path.write_bytes(gzip.compress(text.encode(), compresslevel=6))
        frame.with_columns(pl.col("ts").str.to_datetime(_TS, time_unit="us", time_zone="UTC")).write_parquet(parquet)
    catalog_dir = data / f"catalog-{catalog_artifacts}"
    catalog = catalog_dir / "catalog.jsonl"
    if not catalog.exists():
        _synth(catalog_dir, catalog_artifacts, 1)
    return {"jsonl": packed, "csv": csv_path, "parquet": parquet, "catalog": catalog}


# ---------------------------------------------------------------------------------------------
# One measurement, run in a child process
# ---------------------------------------------------------------------------------------------

_TS = "%Y-%m-%dT%H:%M:%SZ"
def _schema() -> dict[str, Any]:
    import polars as pl

    return {"search_id": pl.String, "ts": pl.String, "query": pl.String, "results": pl.List(pl.String),
            "clicks": pl.List(pl.String), "session_id": pl.String}


def _lower_ids(frame: Any) -> Any:
    import polars as pl

    return frame.with_columns(pl.col("results").list.eval(pl.element().str.to_lowercase()),
                              pl.col("clicks").list.eval(pl.element().str.to_lowercase()))


def _logs_reader(path: Path) -> int:
    from ingest.logs import SeenIds, read_logs
    from ingest.rejects import Rejects

    rejects = Rejects()
    rows = sum(frame.height for frame in read_logs(path, rejects, SeenIds()))
    assert len(rejects) == 0, rejects.items[:3]
    return rows


def _logs_bare(path: Path) -> int:
    import polars as pl

    with gzip.open(path, "rb") as fh:
        frame = pl.read_ndjson(fh.read(), schema=_schema())
    frame = frame.with_columns(pl.col("ts").str.to_datetime(_TS, time_unit="us", time_zone="UTC"))
    return int(_lower_ids(frame).height)


def _csv_bare(path: Path) -> int:
    import polars as pl

    with gzip.open(path, "rb") as fh:
        frame = pl.read_csv(fh.read(), schema=dict.fromkeys(_schema(), pl.String))
    frame = frame.with_columns(pl.col("ts").str.to_datetime(_TS, time_unit="us", time_zone="UTC"),
                               pl.col("results", "clicks").fill_null("").str.split(";"))
    return int(_lower_ids(frame).height)


def _parquet_bare(path: Path) -> int:
    import polars as pl

    return int(_lower_ids(pl.read_parquet(path)).height)


def _catalog_reader(path: Path) -> int:
    from ingest.catalog import read_catalog
    from ingest.rejects import Rejects

    rejects = Rejects()
    artifacts, _ = read_catalog(path, rejects)
    assert len(rejects) == 0, rejects.items[:3]
    return len(artifacts)


def _catalog_pydantic(path: Path) -> int:
    from graph.schema import Artifact

    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip() and Artifact.model_validate_json(line) is not None)


def _catalog_polars(path: Path) -> int:
    import polars as pl

    return pl.read_ndjson(path).height


VARIANTS = {
    "logs: read_logs": _logs_reader,
    "logs: bare polars": _logs_bare,
    "csv logs: read_logs": _logs_reader,
    "csv logs: bare polars": _csv_bare,
    "parquet logs: read_logs": _logs_reader,
    "parquet logs: bare polars": _parquet_bare,
    "catalog: read_catalog": _catalog_reader,
    "catalog: bare pydantic": _catalog_pydantic,
    "catalog: bare polars": _catalog_polars,
}


def _peak_rss_mib() -> float:
    """This process's own peak RSS: VmHWM restarts at exec, unlike ru_maxrss, which a child
    inherits from the parent that forked it (here, one that held the converted logs)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mib()


def _one(variant: str, path: Path) -> None:
    start = time.perf_counter()
    rows = VARIANTS[variant](path)
    print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows, "rss_mib": _peak_rss_mib()}))


def _run(variant: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "bench.bench_readers", "--one", variant, str(path)],
                         check=True, cwd=ROOT, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--searches", type=int, default=1_000_000)
    parser.add_argument("--catalog-artifacts", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=Path("/tmp/matchgraph-bench-readers"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["logs", "csv logs", "parquet logs", "catalog"], default=None)
    parser.add_argument("--one", nargs=2, metavar=("VARIANT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _one(args.one[0], Path(args.one[1]))
        return
    inputs = prepare(args.data, args.searches, args.catalog_artifacts)
    print(f"machine: {machine()}")
    for kind, path in inputs.items():
        print(f"{kind}: {path} ({path.stat().st_size / 2**20:.0f} MiB)")
    print(f"{args.searches:,} searches, {args.catalog_artifacts:,} catalog artifacts")
    sources = {"logs": inputs["jsonl"], "csv logs": inputs["csv"], "parquet logs": inputs["parquet"],
               "catalog": inputs["catalog"]}
    plan = [(v, sources[v.split(":")[0]]) for v in VARIANTS
            if args.only is None or v.split(":")[0] == args.only]
    results: dict[str, list[dict[str, float]]] = {v: [] for v, _ in plan}
    for _ in range(args.rounds):
        for variant, path in plan:
            results[variant].append(_run(variant, path))
    print(f"{'variant':26s} {'rows':>10s} {'min s':>8s} {'median s':>9s} {'peak RSS MiB':>13s}")
    for variant, runs in results.items():
        seconds = [r["seconds"] for r in runs]
        print(f"{variant:26s} {int(runs[0]['rows']):>10,d} {min(seconds):8.2f} {statistics.median(seconds):9.2f} "
              f"{max(r['rss_mib'] for r in runs):13.0f}")
    for kind, reader, bare in (("logs", "logs: read_logs", "logs: bare polars"),
                               ("csv logs", "csv logs: read_logs", "csv logs: bare polars"),
                               ("parquet logs", "parquet logs: read_logs", "parquet logs: bare polars"),
                               ("catalog", "catalog: read_catalog", "catalog: bare pydantic")):
        if reader in results and bare in results:
            ratio = (statistics.median(r["seconds"] for r in results[reader])
                     / statistics.median(r["seconds"] for r in results[bare]))
            print(f"{kind}: reader / baseline (medians) = {ratio:.2f}")


if __name__ == "__main__":
    main()
