"""Quality recovers true strengths from position-biased clicks on popularity-ordered lists.

The simulation: every artifact has a hidden quality and an unrelated popularity. Each search shows
10 artifacts ordered by popularity (with noise), a person examines position k with probability
``1 / k^1.5`` and clicks an examined artifact with probability ``sigmoid(quality - 1)``. Naive
counting (share of comparisons won) mostly measures how high an artifact is shown; the
Bradley-Terry fit with position terms must recover the order of the hidden qualities.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from scipy import stats

from graph.tables import Table
from ingest.aggregate import aggregate_searches
from queries.rating import fit_ratings
from queries.scoring import ScoringConfig


def simulate(n_items: int, n_searches: int, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    quality = rng.normal(0.0, 0.7, n_items)
    popularity = rng.normal(0.0, 1.0, n_items)  # unrelated to quality
    ids = np.array([f"item-{i:03d}" for i in range(n_items)])
    shown = np.argsort(rng.random((n_searches, n_items)), axis=1)[:, :10]  # 10 random candidates each
    order = np.argsort(-(popularity[shown] + rng.normal(0, 0.2, shown.shape)), axis=1)
    shown = np.take_along_axis(shown, order, axis=1)  # displayed by popularity
    examine = 1.0 / np.arange(1, 11) ** 1.5
    attract = 1.0 / (1.0 + np.exp(-(quality[shown] - 1.0)))
    clicked = rng.random(shown.shape) < examine * attract
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame({
        "search_id": [f"s{i}" for i in range(n_searches)],
        "ts": [t0 + timedelta(minutes=i) for i in range(n_searches)],
        "query": ["q"] * n_searches,
        "results": [list(ids[row]) for row in shown],
        "clicks": [list(ids[row][hit]) for row, hit in zip(shown, clicked, strict=True)],
        "session_id": [None] * n_searches,
    }, schema_overrides={"ts": pl.Datetime("us", "UTC"), "session_id": pl.String})
    return frame, quality


def test_bradley_terry_with_positions_recovers_quality_where_naive_counting_fails() -> None:
    n_items = 40
    searches, quality = simulate(n_items, 30_000, seed=11)
    prefs = aggregate_searches(searches)[Table.PREFERRED_OVER]
    result = fit_ratings(prefs, ScoringConfig(bootstrap_rounds=0))
    assert len(result.ids) == n_items
    assert int(result.comparisons.min()) >= 50
    truth = quality[[int(i.split("-")[1]) for i in result.ids]]
    fitted = stats.spearmanr(result.theta, truth).statistic
    wins = prefs.group_by("winner").agg(pl.col("count").sum().alias("w"))
    losses = prefs.group_by("loser").agg(pl.col("count").sum().alias("l"))
    naive = (pl.DataFrame({"id": result.ids}).join(wins, left_on="id", right_on="winner", how="left")
             .join(losses, left_on="id", right_on="loser", how="left").fill_null(0)
             .select(pl.col("w") / (pl.col("w") + pl.col("l"))).to_series().to_numpy())
    naive_rho = stats.spearmanr(naive, truth).statistic
    assert fitted >= 0.95, fitted
    assert naive_rho <= 0.75, naive_rho
    assert fitted - naive_rho >= 0.25
    # the fitted examination probabilities follow the simulated 1 / k^1.5
    examination = np.exp(result.position_effects)
    assert np.allclose(examination, 1.0 / np.arange(1, 11) ** 1.5, atol=0.03)


def simulate_pairs(n_items: int, n_shown: int, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    """Preference rows drawn from the fitted model itself: each draw shows two artifacts at two positions.

    True ratings come from the prior (sd 1.5); artifacts are drawn with Zipf weights, so evidence
    runs from none to thousands of comparisons. Each side is clicked with probability
    ``e_position * sigmoid(theta)``; a row is kept when exactly one of the two was clicked.
    """
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 1.5, n_items)
    weight = 1.0 / np.arange(1, n_items + 1) ** 1.1
    weight /= weight.sum()
    first, second = rng.choice(n_items, n_shown, p=weight), rng.choice(n_items, n_shown, p=weight)
    keep = first != second
    first, second = first[keep], second[keep]
    pos_first = rng.integers(1, 11, first.size)
    pos_second = (pos_first - 1 + rng.integers(1, 10, first.size)) % 10 + 1  # another position
    examine = 1.0 / np.arange(1, 11)
    rho_first = examine[pos_first - 1] / (1.0 + np.exp(-theta[first]))
    rho_second = examine[pos_second - 1] / (1.0 + np.exp(-theta[second]))
    click_first = rng.random(first.size) < rho_first
    one = click_first != (rng.random(first.size) < rho_second)
    ids = np.array([f"item-{i:04d}" for i in range(n_items)])
    rows = pl.DataFrame({
        "winner": ids[np.where(click_first, first, second)[one]],
        "loser": ids[np.where(click_first, second, first)[one]],
        "winner_pos": np.where(click_first, pos_first, pos_second)[one],
        "loser_pos": np.where(click_first, pos_second, pos_first)[one],
    })
    return rows.group_by("winner", "loser", "winner_pos", "loser_pos").agg(pl.len().alias("count")), theta
