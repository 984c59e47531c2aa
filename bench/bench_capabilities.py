"""The capability graph at scale: what grouping, linking and boards add to a rescore, how fast
search answers, and how well boards recover each need's order.

``recovery``
    Simulated logs where an artifact's quality differs by capability (``ingest.synth_needs``):
    Spearman correlation of each capability's board with the hidden order for that need, against
    the overall quality's correlation with the same order, per capability.
``cost --home H``
    Full rescores of the store at ``H`` (e.g. 100k artifacts and 1M searches), each step timed:
    the capability steps against the rest of the run, interleaved over ``--rounds``. Then grouping
    ``--names`` distinct capability names made up from word lists, against the bare floor of the
    same work (embedding the names with the same model).
``search --home H``
    Search latency on the store at ``H`` with the answer cache out of the way (the engine directly,
    the index built once per version and loaded from disk as a one-shot CLI would), interleaved with
    the substring search it replaced and with ``bm25s`` alone (the bare library scoring the same
    lexical part), min / median / p95 over the queries.

Run: ``python -m bench.bench_capabilities recovery|cost|search [...]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from bench.common import machine, peak_rss_mib


def recovery(args: argparse.Namespace) -> None:
    from api.application import MatchGraph
    from graph.settings import Settings
    from ingest.synth_needs import board_recovery, synth_needs, write_needs

    catalog, searches, truth = synth_needs(args.artifacts, args.searches, seed=args.seed, spread=args.spread)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        catalog_path, logs_path = write_needs(root, catalog, searches)
        with MatchGraph(Settings(MATCHGRAPH_HOME=root / "home", NEO4J_URI=None)) as mg:  # type: ignore[call-arg]
            mg.ingest_catalogs([catalog_path])
            mg.ingest_logs([logs_path])
            mg.score()
            found = board_recovery(mg.store, truth, min_comparisons=20)
    print(f"{args.artifacts} artifacts, {searches.height} searches, quality(a, c) = quality(a) + N(0, {args.spread}), "
          f"seed {args.seed}")
    print(f"{'capability':32s} {'rated':>5s} {'board':>7s} {'overall':>8s}")
    for row in found.iter_rows(named=True):
        print(f"{row['capability']:32s} {row['artifacts']:5d} {row['board']:7.3f} {row['overall']:8.3f}")
    wins = int((found.get_column("board") > found.get_column("overall")).sum())
    board, overall = found.get_column("board").mean(), found.get_column("overall").mean()
    print(f"mean Spearman: board {board:.3f}, overall {overall:.3f};"
          f" the board is closer for {wins} of {found.height} capabilities")


def _names(n: int, seed: int) -> pl.Series:
    """``n`` distinct capability names: qualifiers around real capability phrases, as catalogs write them."""
    from ingest.synth import _CAP_NAMES

    rng = np.random.default_rng(seed)
    lead = ["", "fast", "open", "multilingual", "high-resolution", "low-latency", "private", "hosted", "local",
            "batch", "streaming", "enterprise", "lightweight", "accurate", "scalable", "real-time"]
    tail = ["", "api", "for agents", "for documents", "on device", "in the browser", "with citations", "at scale",
            "for code", "for images", "with fine-tuning", "for teams"]
    picks = np.column_stack([rng.integers(0, len(lead), n * 2), rng.integers(0, len(_CAP_NAMES), n * 2),
                             rng.integers(0, len(tail), n * 2), rng.integers(0, 2_000, n * 2)])
    texts = [" ".join(p for p in (lead[a], _CAP_NAMES[b], tail[c], f"v{d}") if p) for a, b, c, d in picks.tolist()]
    return pl.Series("name", texts).unique(maintain_order=True).head(n)


def cost(args: argparse.Namespace) -> None:
    from graph.embedded import EmbeddedStore
    from queries.capabilities import CapabilityConfig, group
    from queries.embedding import encoder
    from queries.scoring import ScoringConfig, compute

    store = EmbeddedStore(Path(args.home))
    print(machine())
    config = ScoringConfig()
    capability_steps = ("capabilities", "seeks", "boards")
    added, rest, total = [], [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        result = compute(store, config)
        total.append(time.perf_counter() - started)
        mine = sum(result.steps.get(s, 0.0) for s in capability_steps)
        added.append(mine)
        rest.append(total[-1] - mine)
        graph = result.capabilities
        assert graph is not None
        print(f"  rescore {total[-1]:.1f} s: capability steps {mine:.1f} s "
              f"({', '.join(f'{s} {result.steps.get(s, 0.0):.1f} s' for s in capability_steps)}; "
              f"on the worker: linking {result.steps.get('seeks.worker_s', 0.0):.1f} s beside the ratings, "
              f"boards {result.steps.get('boards.worker_s', 0.0):.1f} s beside the sub-scores), "
              f"rest {rest[-1]:.1f} s;"
              f" {result.scores.height} artifacts, {graph.grouping.statements.height} statements, "
              f"{graph.grouping.capabilities.height} capabilities, {graph.seeks.height} links, "
              f"{graph.boards.height} board rows", flush=True)
    print(f"full rescore min {min(total):.1f} s, median {statistics.median(total):.1f} s; capability steps min "
          f"{min(added):.1f} s, median {statistics.median(added):.1f} s; rest min {min(rest):.1f} s")
    names = _names(args.names, 1)
    rows = pl.DataFrame({"artifact": [f"a{i}" for i in range(names.len())], "position": [1] * names.len(),
                         "capability": [f"c{i}" for i in range(names.len())], "name": names,
                         "description": [None] * names.len(), "unique": [None] * names.len(),
                         "vs_alternatives": [None] * names.len(), "tags": [None] * names.len()},
                        schema_overrides={"description": pl.String, "unique": pl.String, "vs_alternatives": pl.String,
                                          "tags": pl.List(pl.String)})
    grouped, floor = [], []
    model = encoder()
    for _ in range(args.rounds):
        started = time.perf_counter()
        model.encode(names)
        floor.append(time.perf_counter() - started)
        started = time.perf_counter()
        result_groups = group(rows, CapabilityConfig(), model)
        grouped.append(time.perf_counter() - started)
    print(f"grouping {names.len()} distinct names into {result_groups.capabilities.height} capabilities: min "
          f"{min(grouped):.2f} s, median {statistics.median(grouped):.2f} s; baseline (embedding the names alone) "
          f"min {min(floor):.2f} s, median {statistics.median(floor):.2f} s; peak RSS {peak_rss_mib():.0f} MiB")


def search(args: argparse.Namespace) -> None:
    from bench.substring_search import SubstringIndex
    from graph.embedded import EmbeddedStore
    from graph.settings import Settings
    from graph.tables import Table
    from queries.engine import QueryEngine
    from queries.search import IndexCache, SearchIndex, _scores
    from queries.text import terms

    store = EmbeddedStore(Path(args.home))
    settings = Settings(MATCHGRAPH_HOME=Path(args.home), NEO4J_URI=None, MATCHGRAPH_CACHE_ENTRIES=0)  # type: ignore[call-arg]
    print(machine())
    with store.reader() as view, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        built = SearchIndex.build(view)
        print(f"index build {time.perf_counter() - started:.1f} s ({built.docs.height} artifacts, {built.caps.height}"
              f" capabilities, {built.intents.height} intents)")
        built.save(Path(tmp) / "index")
        started = time.perf_counter()
        loaded = SearchIndex.load(Path(tmp) / "index", view.version)
        print(f"index load from disk {time.perf_counter() - started:.2f} s (what a one-shot CLI search pays)")
        assert loaded is not None
        cache = IndexCache(keep=1)
        cache._indexes[view.version] = loaded
        engine = QueryEngine(view, settings, cache)
        caps = view.table(Table.CAPABILITIES, columns=["name"]).get_column("name").to_list()
        names = view.table(Table.ARTIFACTS, columns=["name"]).get_column("name").head(2000).to_list()
        rng = np.random.default_rng(3)
        queries = ([c.lower() for c in caps] + [f"best {c.lower()} api" for c in caps]
                   + [names[int(i)].lower() for i in rng.integers(0, len(names), 40)]
                   + ["draw pictures from a prompt", "turn speech into text", "answer questions about my documents",
                      "find similar sentences", "run a model on my laptop"])
        baseline = SubstringIndex(view)
        times: dict[str, list[float]] = {"capability-aware search": [], "substring search (before)": [],
                                         "bm25s alone (lexical part)": []}
        engine.search(queries[0])
        for _ in range(args.rounds):
            for q in queries:
                started = time.perf_counter()
                engine.search(q, limit=10)
                times["capability-aware search"].append(time.perf_counter() - started)
                started = time.perf_counter()
                baseline.search(q, 10)
                times["substring search (before)"].append(time.perf_counter() - started)
                started = time.perf_counter()
                _scores(loaded.lexical, loaded.vocab, terms(q))
                times["bm25s alone (lexical part)"].append(time.perf_counter() - started)
    print(f"{len(queries)} queries x {args.rounds} rounds, answer cache off")
    for name, values in times.items():
        ordered = sorted(values)
        print(f"{name:30s} min {ordered[0] * 1e3:7.2f} ms  p50 {statistics.median(ordered) * 1e3:7.2f} ms  "
              f"p95 {ordered[int(0.95 * (len(ordered) - 1))] * 1e3:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("recovery")
    r.add_argument("--artifacts", type=int, default=300)
    r.add_argument("--searches", type=int, default=100_000)
    r.add_argument("--spread", type=float, default=1.0)
    r.add_argument("--seed", type=int, default=11)
    c = sub.add_parser("cost")
    c.add_argument("--home", required=True)
    c.add_argument("--rounds", type=int, default=2)
    c.add_argument("--names", type=int, default=100_000)
    s = sub.add_parser("search")
    s.add_argument("--home", required=True)
    s.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    {"recovery": recovery, "cost": cost, "search": search}[args.what](args)


if __name__ == "__main__":
    main()
