"""How often 95% quality intervals cover the true rating, on whole searches simulated through the
real aggregation: the figures behind BENCHMARKS.md's "Interval coverage".

Each search shows ten artifacts ordered by a hidden popularity, a person looks at position k with
chance ``1 / k^1.5`` and clicks what they look at with chance ``sigmoid(q - 1)`` (``q`` the hidden
quality, normal with sd 0.7); ``ingest.aggregate.aggregate_searches`` turns the searches into
preference rows and totals exactly as an ingest does. Three intervals are compared:

* ``rows as independent``: ``fit_ratings`` alone, every preference row taken as its own event;
* ``sandwich``: widened by the totals' design effect (``design_effect=``);
* ``empirical Bayes + sandwich``: ``fit_quality``, what scoring uses.

Two ways of choosing what a search shows: ``uniform`` (ten artifacts at random, the unit test's
simulator) and ``zipf 0.5`` (artifacts drawn with weights ``1 / i^0.5``, so evidence runs from a
couple of hundred comparisons to thousands). Coverage is reported overall and for the tenth of
artifacts with the fewest comparisons.

Run: ``python -m bench.bench_coverage [--artifacts 300] [--searches 30000] [--seeds 11 12 13]``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from bench.common import machine
from graph.tables import Table, preference_cells
from ingest.aggregate import aggregate_searches
from queries.rating import RatingResult, fit_quality, fit_ratings
from queries.scoring import ScoringConfig


def simulate(n_items: int, n_searches: int, seed: int, zipf: float) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    quality = rng.normal(0.0, 0.7, n_items)
    popularity = rng.normal(0.0, 1.0, n_items)
    weight = np.log(1.0 / np.arange(1, n_items + 1) ** zipf)
    keys = weight[None, :] - np.log(-np.log(rng.random((n_searches, n_items))))  # Gumbel top-k: no repeats
    shown = np.argpartition(-keys, 10, axis=1)[:, :10]
    order = np.argsort(-(popularity[shown] + rng.normal(0, 0.2, shown.shape)), axis=1)
    shown = np.take_along_axis(shown, order, axis=1)
    clicked = rng.random(shown.shape) < (1.0 / np.arange(1, 11) ** 1.5) / (1.0 + np.exp(-(quality[shown] - 1.0)))
    ids = np.array([f"item-{i:04d}" for i in range(n_items)])
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame({
        "search_id": [f"s{i}" for i in range(n_searches)], "ts": [t0 + timedelta(seconds=i) for i in range(n_searches)],
        "query": ["q"] * n_searches, "results": [list(ids[row]) for row in shown],
        "clicks": [list(ids[row][hit]) for row, hit in zip(shown, clicked, strict=True)],
        "session_id": [None] * n_searches,
    }, schema_overrides={"ts": pl.Datetime("us", "UTC"), "session_id": pl.String})
    return frame, quality - 1.0


def covered(result: RatingResult, truth: np.ndarray) -> np.ndarray:
    aligned = truth[[int(i.split("-")[1]) for i in result.ids]]
    return np.asarray((result.lo <= aligned) & (aligned <= result.hi))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=int, default=300)
    parser.add_argument("--searches", type=int, default=30_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    args = parser.parse_args()
    print(f"{machine()}; {args.artifacts} artifacts x {args.searches:,} searches x seeds {args.seeds}")
    print(f"{'exposure':10} {'intervals':28} {'coverage':>9} {'thinnest 10%':>13} {'comparisons':>15}")
    for zipf in (0.0, 0.5):
        names = ("rows as independent", "sandwich", "empirical Bayes + sandwich")
        hits: dict[str, list[np.ndarray]] = {k: [] for k in names}
        thin: dict[str, list[np.ndarray]] = {k: [] for k in hits}
        spans = []
        for seed in args.seeds:
            searches, truth = simulate(args.artifacts, args.searches, seed, zipf)
            aggregates = aggregate_searches(searches)
            prefs = preference_cells(aggregates[Table.PREFERRED_OVER])
            totals = aggregates[Table.TOTALS]
            fits = {"rows as independent": fit_ratings(prefs, ScoringConfig()),
                    "sandwich": fit_ratings(prefs, ScoringConfig(), design_effect=totals),
                    "empirical Bayes + sandwich": fit_quality(prefs, ScoringConfig(), design_effect=totals)}
            for name, result in fits.items():
                ok = covered(result, truth)
                hits[name].append(ok)
                thin[name].append(ok[result.comparisons <= np.quantile(result.comparisons, 0.1)])
            counts = fits["sandwich"].comparisons
            spans.append((int(counts.min()), int(counts.max())))
        label = "uniform" if zipf == 0 else f"zipf {zipf:g}"
        span = f"{min(s[0] for s in spans)}-{max(s[1] for s in spans)}"
        for name in hits:
            print(f"{label:10} {name:28} {np.concatenate(hits[name]).mean():9.3f} "
                  f"{np.concatenate(thin[name]).mean():13.3f} {span:>15}")


if __name__ == "__main__":
    main()
