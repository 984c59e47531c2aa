"""Scoring at scale, against plain NetworkX / Python-loop baselines measured in the same run.

Run: ``python -m bench.bench_scoring``. Two measurements:

1. A full rescore (all five sub-scores and ranks) of 100k artifacts with 2M co-match edges, 1M
   preference rows, 300k intent matches and 500k daily rows on the embedded store. Baseline: the
   PageRank part done the plain way (``networkx.pagerank`` on a graph built from the same edges).
2. Bradley-Terry with position terms and 100 bootstrap rounds on 300 artifacts. Baseline: the same
   model fitted by L-BFGS with a per-row Python loop for the likelihood, refitting per round
   (timed over a few rounds and reported per round, since 100 would take minutes).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl
from scipy import optimize

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument("--co", type=int, default=2_000_000)
    parser.add_argument("--prefs", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"machine: {machine()}")

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
    result = fit_ratings(small, ScoringConfig(bootstrap_rounds=100))
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
