"""Scoring at scale, against plain NetworkX / Python-loop baselines measured in the same run.

Run: ``python -m bench.bench_scoring``. Two measurements:

1. A full rescore (all five sub-scores and ranks) of 100k artifacts with 2M co-match edges, 1M
   preference rows, 300k intent matches and 500k daily rows on the embedded store. Baseline: the
   PageRank part done the plain way (``networkx.pagerank`` on a graph built from the same edges).
2. Bradley-Terry with position terms and 100 bootstrap rounds on 300 artifacts. Baseline: the
   same model fitted by L-BFGS with a per-row Python loop for the likelihood, refitting per round
   (timed over a few rounds and reported per round, since 100 would take minutes).
3. The rating fit alone (``queries.rating.fit_ratings`` with the scoring defaults) at 5k and 100k
   artifacts, cold and warm-started from the previous ratings, against the fit it replaced
   (``bench/rating_baseline.py``) on the same rows. Each fit runs in its own process, interleaved,
   3 repeats, min / median, with that process's peak RSS. ``--rating-only`` runs just this part.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import polars as pl
from scipy import optimize

from bench import rating_baseline
from bench.common import machine, peak_rss_mib
from graph.embedded import EmbeddedStore
from graph.tables import GraphDelta, Table
from queries.rating import fit_ratings
from queries.scoring import ScoringConfig, compute_scores

TYPES = ["model", "repo", "finetune", "api", "framework"]


def synthetic_graph(n_art: int, n_co: int, n_pref: int, n_matched: int, n_daily: int, seed: int) -> GraphDelta:
    rng = np.random.default_rng(seed)
    ids = np.array([f"a{i:06d}" for i in range(n_art)])
    weights = 1.0 / np.arange(1, n_art + 1) ** 0.8
    weights /= weights.sum()

    def draw(k: int) -> np.ndarray:
        return rng.choice(n_art, size=k, p=weights)

    arts = pl.DataFrame({
        "id": ids, "name": ids, "type": rng.choice(TYPES, n_art), "catalogued": np.ones(n_art, dtype=bool),
        "stars": pl.Series(np.where(rng.random(n_art) < 0.5, rng.pareto(1.2, n_art) * 100, np.nan)).fill_nan(None),
        "released": [date(2023, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 1000, n_art)],
    })
    a, b = draw(n_co * 2), draw(n_co * 2)
    co = (pl.DataFrame({"x": np.minimum(a, b), "y": np.maximum(a, b)}).filter(pl.col("x") != pl.col("y"))
          .unique().head(n_co))
    co = pl.DataFrame({"a": ids[co["x"].to_numpy()], "b": ids[co["y"].to_numpy()],
                       "count": rng.integers(1, 100, co.height)})
    w, lo = draw(n_pref), draw(n_pref)
    keep = w != lo
    prefs = pl.DataFrame({"winner": ids[w[keep]], "loser": ids[lo[keep]],
                          "winner_pos": rng.integers(1, 11, keep.sum()), "loser_pos": rng.integers(1, 11, keep.sum()),
                          "count": rng.integers(1, 5, keep.sum())})
    prefs = prefs.group_by("winner", "loser", "winner_pos", "loser_pos").agg(pl.col("count").sum())
    intents = np.array([f"intent {i}" for i in range(n_matched // 10)])
    matched = pl.DataFrame({"intent": rng.choice(intents, n_matched), "artifact": ids[draw(n_matched)],
                            "count": rng.integers(1, 50, n_matched), "clicks": rng.integers(0, 5, n_matched),
                            "position_sum": rng.integers(1, 200, n_matched)}).unique(["intent", "artifact"])
    daily = pl.DataFrame({"artifact": ids[draw(n_daily)],
                          "day": [date(2026, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 60, n_daily)],
                          "matched": rng.integers(1, 30, n_daily), "clicks": rng.integers(0, 5, n_daily)}
                         ).unique(["artifact", "day"])
    return (GraphDelta().set(Table.ARTIFACTS, arts).set(Table.CO_MATCHED, co).set(Table.PREFERRED_OVER, prefs)
            .set(Table.MATCHED, matched).set(Table.DAILY, daily)
            .set(Table.INTENTS, matched.group_by("intent").agg(pl.col("count").sum().alias("searches"))
                 .rename({"intent": "id"})))


def loop_bt_round(prefs: pl.DataFrame, ids: list[str]) -> None:
    """The plain way: the same likelihood and gradient in a per-row Python loop, minimized by L-BFGS."""
    index = {x: i for i, x in enumerate(ids)}
    rows = [(index[w], index[lo], wp - 1, lp - 1, n) for w, lo, wp, lp, n in prefs.iter_rows()]
    m = len(ids)

    def side(theta: float, gamma: float, pos: int) -> tuple[float, float, float]:
        if pos == 0:
            return theta, 1.0, 0.0
        a, e = 1 / (1 + math.exp(-theta)), 1 / (1 + math.exp(-gamma))
        rho = a * e
        return math.log(rho / (1 - rho)), (1 - a) / (1 - rho), (1 - e) / (1 - rho)

    def nll(x: np.ndarray) -> tuple[float, np.ndarray]:
        total = float(x[:m] @ x[:m]) / (2 * 1.5**2) + float(x[m:] @ x[m:]) / 18
        grad = np.concatenate([x[:m] / 1.5**2, x[m:] / 9])
        gamma = [0.0, *x[m:]]
        for w, lo, wp, lp, n in rows:
            lw, tw, gw = side(x[w], gamma[wp], wp)
            ll, tl, gl = side(x[lo], gamma[lp], lp)
            z = lw - ll
            total += n * math.log1p(math.exp(-z))
            g = -n / (1 + math.exp(z))
            grad[w] += g * tw
            grad[lo] -= g * tl
            if wp:
                grad[m + wp - 1] += g * gw
            if lp:
                grad[m + lp - 1] -= g * gl
        return total, grad

    optimize.minimize(nll, np.zeros(m + 9), jac=True, method="L-BFGS-B", options={"maxiter": 30})


def rating_worker(variant: str, folder: Path) -> None:
    """One timed fit in a fresh process, so its peak RSS is its own; prints one JSON line."""
    prefs = pl.read_parquet(folder / "prefs.parquet")
    config = ScoringConfig()
    start = time.perf_counter()
    if variant == "baseline":
        rating_baseline.fit_ratings(prefs, config)
        report: dict[str, float | int | str] = {}
    else:
        previous = pl.read_parquet(folder / "start.parquet") if variant == "warm" else None
        effects = np.load(folder / "effects.npy") if variant == "warm" else None
        report = fit_ratings(prefs, config, start=previous, start_position_effects=effects).report
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "rss": peak_rss_mib(), "report": report}))


def rating_bench(label: str, prefs: pl.DataFrame, repeats: int = 3) -> None:
    """The fit alone, cold and warm, against the fit it replaced: interleaved, min / median of ``repeats``."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prefs.write_parquet(folder / "prefs.parquet")
        # yesterday's ratings: the same fit on 97% of today's rows
        yesterday = fit_ratings(prefs.sample(fraction=0.97, seed=3), ScoringConfig())
        pl.DataFrame({"id": yesterday.ids, "theta": yesterday.theta}).write_parquet(folder / "start.parquet")
        np.save(folder / "effects.npy", yesterday.position_effects)
        runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "cold": [], "warm": []}
        for _ in range(repeats):
            for variant, found in runs.items():
                out = subprocess.run([sys.executable, "-m", "bench.bench_scoring", "--rating-worker", variant,
                                      str(folder)], check=True, capture_output=True, text=True).stdout
                found.append(json.loads(out.strip().splitlines()[-1]))
    print(f"rating fit, {label}: {prefs.height:,} preference rows")
    for variant, found in runs.items():
        seconds = sorted(float(r["seconds"]) for r in found)
        rss = max(float(r["rss"]) for r in found)
        report = found[0]["report"]
        detail = ""
        if report:
            detail = (f"; steps {report['steps']}, objective evaluations {report['objective_evaluations']}, "
                      f"CG iterations {report['cg_iterations']}; prepare {report['prepare_s']:.2f} s, "
                      f"fit {report['fit_s']:.2f} s, intervals {report['intervals_s']:.2f} s "
                      f"({report['interval_method']})")
        name = {"baseline": "baseline (previous fit)", "cold": "ours, cold", "warm": "ours, warm (97% rows)"}[variant]
        print(f"  {name:24s} min {seconds[0]:6.2f} s  median {seconds[len(seconds) // 2]:6.2f} s  "
              f"peak RSS {rss:5.0f} MiB{detail}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument("--co", type=int, default=2_000_000)
    parser.add_argument("--prefs", type=int, default=1_000_000)
    parser.add_argument("--rating-only", action="store_true")
    parser.add_argument("--rating-worker", nargs=2, metavar=("VARIANT", "FOLDER"))
    args = parser.parse_args()
    if args.rating_worker:
        rating_worker(args.rating_worker[0], Path(args.rating_worker[1]))
        return
    print(f"machine: {machine()}")
    rating_bench("5k artifacts",
                 synthetic_graph(5_000, 100_000, 50_000, 1_000, 1_000, seed=1).get(Table.PREFERRED_OVER))
    rating_bench(f"{args.artifacts:,} artifacts",
                 synthetic_graph(args.artifacts, 2_000, args.prefs, 1_000, 1_000, seed=1).get(Table.PREFERRED_OVER))
    if args.rating_only:
        return

    delta = synthetic_graph(args.artifacts, args.co, args.prefs, 300_000, 500_000, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore(Path(tmp))
        store.apply(delta)
        sizes = {t.value: store.table(t).height for t in (Table.ARTIFACTS, Table.CO_MATCHED, Table.PREFERRED_OVER,
                                                           Table.MATCHED, Table.DAILY)}
        print("graph:", ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        start = time.perf_counter()
        scores = compute_scores(store, ScoringConfig(as_of=date(2026, 3, 1)))
        ours = time.perf_counter() - start
        print(f"full rescore: {ours:.1f} s for {scores.height:,} artifacts (target <= 30 s)")
        co = store.table(Table.CO_MATCHED)
        start = time.perf_counter()
        graph: nx.DiGraph = nx.DiGraph()
        graph.add_weighted_edges_from(co.iter_rows())
        graph.add_weighted_edges_from(co.select("b", "a", "count").iter_rows())
        nx.pagerank(graph, weight="weight")
        baseline = time.perf_counter() - start
        print(f"baseline, networkx pagerank alone on the co-match edges: {baseline:.1f} s "
              f"(ours does all five sub-scores {baseline / ours:.1f}x faster)")

    small = synthetic_graph(300, 10_000, 150_000, 1_000, 1_000, seed=2).get(Table.PREFERRED_OVER)
    start = time.perf_counter()
    result = fit_ratings(small, ScoringConfig(interval_draws=100))
    bt = time.perf_counter() - start
    print(f"Bradley-Terry, {len(result.ids)} artifacts, {small.height:,} preference rows, 100 bootstrap rounds: "
          f"{bt:.2f} s (target <= 5 s)")
    rounds = 2
    start = time.perf_counter()
    for _ in range(rounds):
        loop_bt_round(small, result.ids)
    per_round = (time.perf_counter() - start) / rounds
    print(f"baseline, Python-loop likelihood refit per round (L-BFGS capped at 30 iterations): {per_round:.1f} s; "
          f"100 rounds ~ {per_round * 101:.0f} s, {per_round * 101 / bt:.0f}x ours")
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
