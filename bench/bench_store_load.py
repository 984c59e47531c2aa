"""Loading the embedded store: 10k artifacts and 1M co-match edges, against a NetworkX build.

Run: ``python -m bench.bench_store_load [--edges 1000000]``. Prints seconds to publish and to load
the Parquet snapshot, the NetworkX baseline (building a weighted graph of the same edges, which
is what a pickle/JSON-of-the-graph design would pay at every start), the ratio, and peak RSS.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl

from bench.common import machine, peak_rss_mib, timed
from graph.embedded import EmbeddedStore
from graph.tables import GraphDelta, Table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--artifacts", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    ids = np.array([f"artifact-{i:06d}" for i in range(args.artifacts)])
    a = rng.integers(0, args.artifacts, args.edges * 2)
    b = rng.integers(0, args.artifacts, args.edges * 2)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pairs = pl.DataFrame({"x": lo, "y": hi}).filter(pl.col("x") != pl.col("y")).unique().head(args.edges)
    co = pl.DataFrame({"a": ids[pairs["x"].to_numpy()], "b": ids[pairs["y"].to_numpy()],
                       "count": rng.integers(1, 50, pairs.height)})
    arts = pl.DataFrame({"id": ids, "name": ids, "type": ["model"] * args.artifacts,
                         "catalogued": [True] * args.artifacts})
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore(Path(tmp))
        with timed(results, "publish"):
            store.apply(GraphDelta().set(Table.ARTIFACTS, arts).set(Table.CO_MATCHED, co))
        with timed(results, "load"):
            fresh = EmbeddedStore(Path(tmp))
            loaded = {t: fresh.table(t).height for t in Table}
        with timed(results, "stats"):
            fresh.artifact_stats()
        with timed(results, "networkx_build"):
            graph: nx.Graph = nx.Graph()
            graph.add_weighted_edges_from(co.iter_rows())
    print(f"machine: {machine()}")
    print(f"artifacts {loaded[Table.ARTIFACTS]}, co-match edges {loaded[Table.CO_MATCHED]}")
    print(f"publish snapshot: {results['publish']:.2f} s")
    print(f"load snapshot:    {results['load']:.2f} s")
    print(f"artifact stats:   {results['stats']:.2f} s")
    print(f"networkx build (baseline): {results['networkx_build']:.2f} s")
    print(f"load speed-up over the networkx build: {results['networkx_build'] / results['load']:.1f}x")
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
