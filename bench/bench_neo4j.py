"""Neo4j benchmarks: the write path and the import against their bare baselines, and query latency.

Needs a local server started with ``matchgraph neo4j start --home H`` (the benchmark stops, resets
and restarts it: its database is DESTROYED). Each section names the work and its baseline, which
run in the same process, interleaved round by round; figures are min / median over the rounds.

``python -m bench.bench_neo4j --home H --only writes [--artifacts 100000 --searches 1000000]``
    The catalog and every 100k-search log file of ``matchgraph synth``, each aggregated as the
    pipeline aggregates it, written through ``Neo4jStore.apply`` (key-disjoint parts of
    ``MATCHGRAPH_NEO4J_ROWS_PER_WRITE`` rows, each with its ledger row) against the same rows of
    the same parts written by ``bench/neo4j_bare_load.py`` (``UNWIND`` + ``CREATE``, nothing
    looked up or merged). Each round starts from an empty database. Aggregation is not timed.
``python -m bench.bench_neo4j --home H --only import``
    ``matchgraph neo4j import`` of an embedded store holding the same data (from the server
    running with an empty database to the server answering with every index online) against
    ``neo4j-admin database import full`` alone, run by hand on the same CSV files.
``--only upsert`` and ``--only latency`` (on the server the environment names, cleared first):
    200k co-match upserts in one transaction against per-row MERGE; ``compare`` and
    ``alternatives`` latency on a scored graph of ``--artifacts``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from bench.common import machine
from bench.neo4j_bare_load import BareLoader
from graph.embedded import EmbeddedStore
from graph.limits import DEFAULT_LIMITS
from graph.neo4j_import import run_admin_import, write_import_files
from graph.neo4j_store import Neo4jStore, part_count, split_delta
from graph.settings import Settings
from graph.tables import GraphDelta, Table
from ingest.aggregate import Aggregator
from ingest.catalog import catalog_delta, read_catalog
from ingest.files import sha256_of
from ingest.pipeline import ingest_catalogs, ingest_logs, read_log_file
from ingest.rejects import Rejects
from ingest.synth import write_synth
from queries.engine import QueryEngine
from queries.scoring import ScoringConfig, score

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]


# -- the server ---------------------------------------------------------------------------------
def _cli(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"matchgraph {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


class LocalServer:
    """The server of ``--home``, reset to an empty database between runs."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.root = home.expanduser().resolve() / "neo4j"
        ports = self.root / "run" / "ports.json"
        if not ports.exists():
            raise SystemExit(f"no server running for {home}: matchgraph neo4j start --home {home}")
        self.ports = json.loads(ports.read_text())

    def start(self) -> None:
        _cli("neo4j", "start", "--home", str(self.home), "--bolt-port", str(self.ports["bolt"]),
             "--http-port", str(self.ports["http"]))

    def stop(self) -> None:
        _cli("neo4j", "stop", "--home", str(self.home))

    def drop_database(self) -> None:
        """Delete the database's files (the server stopped): the next start creates it empty."""
        for folder in ("databases", "transactions"):
            shutil.rmtree(self.root / "data" / folder / "neo4j", ignore_errors=True)

    def reset(self) -> None:
        self.stop()
        self.drop_database()
        self.start()

    def settings(self) -> Settings:
        password = (self.root / "password").read_text().strip()
        return Settings(NEO4J_URI=f"bolt://127.0.0.1:{self.ports['bolt']}", NEO4J_PASSWORD=password)  # type: ignore[call-arg]


def _spread(values: list[float]) -> str:
    return f"min {min(values):7.1f} s, median {statistics.median(values):7.1f} s"


# -- data ---------------------------------------------------------------------------------------
def prepare(folder: Path, artifacts: int, searches: int, per_file: int) -> list[tuple[str, GraphDelta]]:
    """The synthetic data and each file's delta as the pipeline writes it (aggregate + ledger row),
    cached as Parquet under ``folder`` so repeated runs skip generating and aggregating."""
    data = folder / "data"
    if not (data / "catalog.jsonl").exists():
        write_synth(data, n_artifacts=artifacts, n_searches=searches, seed=5, per_file=per_file)
    paths = [data / "catalog.jsonl", *sorted(data.glob("searches-*.jsonl"))]
    deltas: list[tuple[str, GraphDelta]] = []
    for path in paths:
        cached = folder / "deltas" / path.stem
        if not (cached / "done").exists():
            rejects = Rejects()
            if path.name == "catalog.jsonl":
                records, _ = read_catalog(path, rejects, None)
                delta, kind, rows = catalog_delta(records), "catalog", len(records)
            else:
                acc = Aggregator()
                for frame in read_log_file(path, path, rejects, None, DEFAULT_LIMITS):
                    acc.add(frame)
                delta, kind, rows = acc.delta(), "logs", acc.searches
            delta.set(Table.LEDGER, pl.DataFrame({"sha256": [sha256_of(path)], "source": [str(path)], "kind": [kind],
                                                  "size": [path.stat().st_size], "rows": [rows],
                                                  "ingested_at": [datetime.now(UTC)]}))
            cached.mkdir(parents=True, exist_ok=True)
            for table, frame in delta.tables.items():
                frame.write_parquet(cached / f"{table.value}.parquet")
            (cached / "done").touch()
        delta = GraphDelta({Table(p.stem): pl.read_parquet(p) for p in sorted(cached.glob("*.parquet"))})
        deltas.append((path.name, delta))
    return deltas


# -- the write path -----------------------------------------------------------------------------
def _sample(delta: GraphDelta, key: str, rows: int = 20) -> GraphDelta:
    """A few rows of every table of ``delta`` (ledger key ``key``): enough to plan each statement."""
    sample = GraphDelta({t: f.head(rows) for t, f in delta.tables.items()})
    if Table.LEDGER in sample.tables:
        sample.tables[Table.LEDGER] = sample.tables[Table.LEDGER].with_columns(pl.lit(key).alias("sha256"))
    return sample


def bench_writes(server: LocalServer, deltas: list[tuple[str, GraphDelta]], rounds: int) -> None:
    settings = server.settings()
    per_write = settings.neo4j_rows_per_write
    rows = {name: sum(f.height for t, f in d.tables.items() if t is not Table.LEDGER) for name, d in deltas}
    parts = {name: part_count(d, per_write) for name, d in deltas}
    print(f"write path: {len(deltas)} files, {sum(rows.values()):,} rows, parts of at most {per_write:,} rows "
          f"({sum(parts.values())} write transactions)")

    warm = [_sample(delta, f"warm-up-{n}") for n, (_, delta) in enumerate(deltas[:2])]

    def ours() -> dict[str, float]:
        store = Neo4jStore.connect(server.settings())
        times = {}
        try:
            for delta in warm:  # every statement planned once, as on a server that has been running
                store.apply(delta)
            store.clear()
            for name, delta in deltas:
                start = time.perf_counter()
                store.apply(delta)
                times[name] = time.perf_counter() - start
        finally:
            store.close()
        return times

    def bare() -> dict[str, float]:
        from neo4j import GraphDatabase

        s = server.settings()
        password = s.neo4j_password.get_secret_value() if s.neo4j_password else ""
        with GraphDatabase.driver(s.neo4j_uri or "", auth=(s.neo4j_user, password)) as driver:
            loader = BareLoader(driver)
            loader.setup()
            for delta in warm:
                loader.write(delta.tables)
            loader.clear()
            times = {}
            for name, delta in deltas:
                ledger = delta.get(Table.LEDGER)
                times[name] = sum(loader.write({**part.tables, Table.LEDGER: ledger})
                                  for part in split_delta(delta, parts[name]))
        return times

    results: dict[str, list[dict[str, float]]] = {"matchgraph": [], "bare": []}
    runs: list[tuple[str, Callable[[], dict[str, float]]]] = [("matchgraph", ours), ("bare", bare)]
    for number in range(rounds):
        for name, run in runs if number % 2 == 0 else runs[::-1]:
            server.reset()
            results[name].append(run())
            print(f"  round {number + 1} {name:10s} {sum(results[name][-1].values()):7.1f} s", flush=True)
    print(f"{'file':24s} {'rows':>10s} {'parts':>5s} | {'matchgraph':>34s} | {'bare UNWIND/CREATE':>34s} | ratio")
    for name, _ in deltas:
        a = [r[name] for r in results["matchgraph"]]
        b = [r[name] for r in results["bare"]]
        print(f"{name:24s} {rows[name]:10,} {parts[name]:5d} | {_spread(a)} | {_spread(b)} | "
              f"{statistics.median(a) / statistics.median(b):.2f}")
    a = [sum(r.values()) for r in results["matchgraph"]]
    b = [sum(r.values()) for r in results["bare"]]
    logs_a = [sum(v for k, v in r.items() if k != "catalog.jsonl") for r in results["matchgraph"]]
    logs_b = [sum(v for k, v in r.items() if k != "catalog.jsonl") for r in results["bare"]]
    print(f"{'all files':24s} {sum(rows.values()):10,} {sum(parts.values()):5d} | {_spread(a)} | {_spread(b)} | "
          f"{statistics.median(a) / statistics.median(b):.2f} (min/min {min(a) / min(b):.2f})")
    print(f"{'log files only':24s} {'':10s} {'':5s} | {_spread(logs_a)} | {_spread(logs_b)} | "
          f"{statistics.median(logs_a) / statistics.median(logs_b):.2f} (min/min {min(logs_a) / min(logs_b):.2f})")


# -- the import ---------------------------------------------------------------------------------
def bench_import(server: LocalServer, folder: Path, rounds: int) -> None:
    data = folder / "data"
    embedded_home = folder / "embedded"
    if not (embedded_home / "embedded" / "CURRENT").exists():
        print("filling the embedded store (once)...", flush=True)
        settings = Settings(MATCHGRAPH_HOME=embedded_home, NEO4J_URI=None)  # type: ignore[call-arg]
        store = EmbeddedStore(embedded_home)
        ingest_catalogs(store, [data / "catalog.jsonl"], settings)
        ingest_logs(store, sorted(data.glob("searches-*.jsonl")), settings)
        score(store, ScoringConfig(interval_draws=0))
    embedded = EmbeddedStore(embedded_home)
    files_dir = folder / "import-files"
    shutil.rmtree(files_dir, ignore_errors=True)
    with embedded.reader() as snapshot:
        files = write_import_files(snapshot, files_dir)
    print(f"import: {sum(files.rows.values()):,} rows in {len(files.nodes) + len(files.relationships)} CSV files "
          f"({sum(p.stat().st_size for p in files_dir.glob('*.csv')) / 2**20:,.0f} MiB)")
    from ops import neo4j_local as launcher

    command = files.command(launcher._java(), launcher.ensure_jars() / "lib")

    def ours() -> float:
        server.reset()
        start = time.perf_counter()
        out = _cli("neo4j", "import", "--from", str(embedded_home), "--home", str(server.home))
        elapsed = time.perf_counter() - start
        print("    " + out.strip().replace("\n", "\n    "))
        return elapsed

    def bare() -> float:
        server.stop()
        start = time.perf_counter()
        counts = run_admin_import(command, server.root, server.root / "conf")
        elapsed = time.perf_counter() - start
        print(f"    neo4j-admin alone: {counts.get('nodes', 0):,} nodes, {counts.get('relationships', 0):,} "
              f"relationships")
        server.drop_database()
        server.start()
        return elapsed

    results: dict[str, list[float]] = {"matchgraph neo4j import": [], "neo4j-admin import alone": []}
    runs = [("matchgraph neo4j import", ours), ("neo4j-admin import alone", bare)]
    for number in range(rounds):
        for name, run in runs if number % 2 == 0 else runs[::-1]:
            results[name].append(run())
            print(f"  round {number + 1} {name:26s} {results[name][-1]:7.1f} s", flush=True)
    a, b = results["matchgraph neo4j import"], results["neo4j-admin import alone"]
    print(f"matchgraph neo4j import:  {_spread(a)}")
    print(f"neo4j-admin import alone: {_spread(b)}")
    print(f"ratio (medians): {statistics.median(a) / statistics.median(b):.2f}, (mins) {min(a) / min(b):.2f}")


# -- older sections: co-match upserts, query latency ----------------------------------------------
def co_match_rows(n_artifacts: int, n_edges: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"a{i:06d}" for i in range(n_artifacts)])
    a, b = rng.integers(0, n_artifacts, n_edges * 2), rng.integers(0, n_artifacts, n_edges * 2)
    pairs = pl.DataFrame({"x": np.minimum(a, b), "y": np.maximum(a, b)}).filter(pl.col("x") != pl.col("y"))
    pairs = pairs.unique(maintain_order=True).head(n_edges)
    co = pl.DataFrame({"a": ids[pairs["x"].to_numpy()], "b": ids[pairs["y"].to_numpy()],
                       "count": rng.integers(1, 20, pairs.height)})
    arts = pl.DataFrame({"id": ids, "name": ids, "type": ["model"] * n_artifacts,
                         "catalogued": [True] * n_artifacts})
    return arts, co


def bench_upsert(store: Neo4jStore, settings: Settings) -> None:
    arts, co = co_match_rows(10_000, 200_000, seed=3)
    store.clear()
    store.apply(GraphDelta().set(Table.ARTIFACTS, arts))
    start = time.perf_counter()
    store.apply(GraphDelta().set(Table.CO_MATCHED, co))
    created = time.perf_counter() - start
    start = time.perf_counter()
    store.apply(GraphDelta().set(Table.CO_MATCHED, co))
    added = time.perf_counter() - start
    baseline_rows = co.tail(3_000)
    from neo4j import GraphDatabase

    password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
    with GraphDatabase.driver(settings.neo4j_uri or "", auth=(settings.neo4j_user, password)) as driver, \
            driver.session(database=settings.neo4j_database) as session:
        start = time.perf_counter()
        for a, b, count in baseline_rows.iter_rows():
            session.run(
                "MATCH (a:Artifact {id: $a}) MATCH (b:Artifact {id: $b}) "
                "MERGE (a)-[r:CO_MATCHED]->(b) ON CREATE SET r.count = $count "
                "ON MATCH SET r.count = r.count + $count", a=a, b=b, count=count,
            ).consume()
        per_row = time.perf_counter() - start
    batched_rate = co.height / created
    baseline_rate = baseline_rows.height / per_row
    print(f"co-match upsert, {co.height:,} new relationships in one transaction: {created:.1f} s, "
          f"{batched_rate:,.0f} rel/s")
    print(f"co-match upsert, the same {co.height:,} again (counts add): {added:.1f} s, {co.height / added:,.0f} rel/s")
    print(f"baseline, per-row MERGE ({baseline_rows.height:,} rows, one query each): {baseline_rate:,.0f} rel/s; "
          f"batched is {batched_rate / baseline_rate:.0f}x")


def bench_latency(store: Neo4jStore, settings: Settings, artifacts: int) -> None:
    arts, co = co_match_rows(artifacts, artifacts * 10, seed=9)
    store.clear()
    store.apply(GraphDelta().set(Table.ARTIFACTS, arts))
    for offset in range(0, co.height, 250_000):
        store.apply(GraphDelta().set(Table.CO_MATCHED, co.slice(offset, 250_000)))
    score(store, ScoringConfig(interval_draws=0))
    ids = arts.get_column("id").to_list()
    rng = random.Random(4)
    for name in ("compare", "alternatives"):
        samples = []
        for n in range(201):
            start = time.perf_counter()
            with store.reader() as reader:
                engine = QueryEngine(reader, settings)
                if name == "compare":
                    engine.compare(*rng.sample(ids, 2))
                else:
                    engine.alternatives(rng.choice(ids))
            if n:
                samples.append((time.perf_counter() - start) * 1000)
        p50, p99 = np.percentile(samples, [50, 99])
        print(f"{name} on Neo4j with {artifacts:,} artifacts and {co.height:,} co-match edges: "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, help="home of the local server to use (writes, import)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "matchgraph-bench-neo4j",
                        help="where the synthetic data and its aggregates are cached")
    parser.add_argument("--searches", type=int, default=1_000_000)
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument("--per-file", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["writes", "import", "upsert", "latency"], required=True)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if args.only in ("writes", "import"):
        if args.home is None:
            raise SystemExit("--home names the local server (matchgraph neo4j start --home H) this benchmark resets")
        folder = args.work / f"a{args.artifacts}-s{args.searches}-f{args.per_file}"
        server = LocalServer(args.home)
        deltas = prepare(folder, args.artifacts, args.searches, args.per_file)
        if args.only == "writes":
            bench_writes(server, deltas, args.rounds)
        else:
            bench_import(server, folder, args.rounds)
        return
    settings = Settings()
    if not settings.neo4j_uri:
        raise SystemExit("set NEO4J_URI (source .matchgraph/neo4j/env after matchgraph neo4j start)")
    store = Neo4jStore.connect(settings)
    try:
        if args.only == "upsert":
            bench_upsert(store, settings)
        else:
            bench_latency(store, settings, args.artifacts)
    finally:
        store.clear()
        store.close()


if __name__ == "__main__":
    main()
