"""Neo4j benchmarks: co-match upserts, ingesting searches next to the embedded store, query latency.

Needs a running Neo4j (``matchgraph neo4j start`` then ``source .matchgraph/neo4j/env``); the
database is CLEARED. Run: ``python -m bench.bench_neo4j [--searches 1000000] [--artifacts 100000]``.

1. Upserting co-match edges: 200k relationships between 10k artifacts through ``Neo4jStore.apply``
   (UNWIND batches), against a per-row MERGE baseline (one auto-commit query per row) in the same
   run; then the same rows again (every edge exists: the counts add).
2. Ingesting ``--searches`` synthetic searches (files of 100k) into Neo4j and into the embedded
   store: seconds and this process's peak RSS for each (the server's memory is its own 1 GB heap).
3. ``compare`` and ``alternatives`` latency (p50, p99) on a scored graph of ``--artifacts``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from bench.common import machine, peak_rss_mib
from graph.embedded import EmbeddedStore
from graph.neo4j_store import Neo4jStore
from graph.settings import Settings
from graph.tables import GraphDelta, Table
from ingest.pipeline import ingest_catalogs, ingest_logs
from ingest.synth import write_synth
from queries.engine import QueryEngine
from queries.scoring import ScoringConfig, score


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
    baseline_rows = co.tail(3_000).with_columns(pl.col("count"))
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


def bench_ingest(store: Neo4jStore, settings: Settings, searches: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = write_synth(Path(tmp) / "data", n_artifacts=5_000, n_searches=searches, seed=5, per_file=100_000)
        catalog, logs = files[0], files[1:]
        rows = sum(1 for _ in open(logs[0], "rb")) if logs else 0
        for name, target in (("embedded", EmbeddedStore(Path(tmp) / "embedded")), ("neo4j", store)):
            if name == "neo4j":
                store.clear()
            rss_before = peak_rss_mib()
            start = time.perf_counter()
            ingest_catalogs(target, [catalog], settings)
            report = ingest_logs(target, logs, settings)
            elapsed = time.perf_counter() - start
            print(f"ingest {report.ingested:,} searches ({len(logs)} files of ~{rows:,}) into {name}: {elapsed:.1f} s, "
                  f"{report.ingested / elapsed:,.0f} searches/s, peak RSS of this process {peak_rss_mib():.0f} MiB "
                  f"(before: {rss_before:.0f} MiB)")


def bench_latency(store: Neo4jStore, artifacts: int) -> None:
    arts, co = co_match_rows(artifacts, artifacts * 10, seed=9)
    store.clear()
    store.apply(GraphDelta().set(Table.ARTIFACTS, arts))
    for offset in range(0, co.height, 250_000):
        store.apply(GraphDelta().set(Table.CO_MATCHED, co.slice(offset, 250_000)))
    score(store, ScoringConfig(interval_draws=0))
    engine = QueryEngine(store)
    ids = arts.get_column("id").to_list()
    rng = random.Random(4)
    for name, call in (("compare", lambda: engine.compare(*rng.sample(ids, 2))),
                       ("alternatives", lambda: engine.alternatives(rng.choice(ids)))):
        call()
        samples = []
        for _ in range(200):
            start = time.perf_counter()
            call()
            samples.append((time.perf_counter() - start) * 1000)
        p50, p99 = np.percentile(samples, [50, 99])
        print(f"{name} on Neo4j with {artifacts:,} artifacts and {co.height:,} co-match edges: "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--searches", type=int, default=1_000_000)
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument("--only", choices=["upsert", "ingest", "latency"])
    args = parser.parse_args()
    settings = Settings()
    if not settings.neo4j_uri:
        raise SystemExit("set NEO4J_URI (source .matchgraph/neo4j/env after matchgraph neo4j start)")
    print(f"machine: {machine()}; Neo4j at {settings.neo4j_uri}")
    store = Neo4jStore.connect(settings)
    try:
        if args.only in (None, "upsert"):
            bench_upsert(store, settings)
        if args.only in (None, "ingest"):
            bench_ingest(store, settings, args.searches)
        if args.only in (None, "latency"):
            bench_latency(store, args.artifacts)
    finally:
        store.clear()
        store.close()


if __name__ == "__main__":
    main()
