"""Quality recovers true strengths from position-biased clicks on popularity-ordered lists.

The simulation: every artifact has a hidden quality and an unrelated popularity. Each search shows
10 artifacts ordered by popularity (with noise), a person examines position k with probability
``1 / k^1.5`` and clicks an examined artifact with probability ``sigmoid(quality - 1)``. Naive
counting (share of comparisons won) mostly measures how high an artifact is shown; the
Bradley-Terry fit with position terms must recover the order of the hidden qualities.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import optimize, stats

from graph.tables import Table, preference_cells
from ingest.aggregate import aggregate_searches
from queries import rating
from queries.rating import fit_quality, fit_ratings
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
    prefs = preference_cells(aggregate_searches(searches)[Table.PREFERRED_OVER])
    result = fit_ratings(prefs, ScoringConfig(interval_draws=0))
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


def simulate_pairs(n_items: int, n_shown: int, seed: int, day: int = 0) -> tuple[pl.DataFrame, np.ndarray]:
    """Preference rows drawn from the fitted model itself: each draw shows two artifacts at two positions.

    True ratings come from the prior (sd 1.5); artifacts are drawn with Zipf weights, so evidence
    runs from none to thousands of comparisons. Each side is clicked with probability
    ``e_position * sigmoid(theta)``; a row is kept when exactly one of the two was clicked. ``seed``
    fixes the true ratings, ``day`` the draws.
    """
    theta = np.random.default_rng(seed).normal(0.0, 1.5, n_items)
    rng = np.random.default_rng([seed, day])
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


def test_95_intervals_cover_the_true_rating_of_at_least_93_percent_of_artifacts() -> None:
    """Whole searches through the real aggregation: one click beside nine shown artifacts makes nine
    preference rows from one event, so intervals that take rows as independent cover far too little;
    the design effect of the ``totals`` table widens them (a sandwich) and the empirical-Bayes prior
    mean keeps the common level where the data put it."""
    covered, naive, total = 0, 0, 0
    for seed in (11, 12, 13):
        searches, quality = simulate(300, 30_000, seed)
        aggregates = aggregate_searches(searches)
        prefs = preference_cells(aggregates[Table.PREFERRED_OVER])
        result = fit_quality(prefs, ScoringConfig(), design_effect=aggregates[Table.TOTALS])
        assert result.report["interval_method"] == "rao-blackwell+sandwich"
        truth = (quality - 1.0)[[int(i.split("-")[1]) for i in result.ids]]  # attractiveness sigmoid(q - 1)
        covered += int(np.sum((result.lo <= truth) & (truth <= result.hi)))
        plain = fit_ratings(prefs, ScoringConfig(interval_draws=0))
        naive += int(np.sum((plain.lo <= truth) & (truth <= plain.hi)))
        total += len(result.ids)
        assert int(result.comparisons.max()) > 5 * int(result.comparisons.min())  # evidence from thin to thick
    assert total == 900
    assert covered / total >= 0.93, covered / total
    assert naive / total < 0.7, naive / total  # what the rows taken as independent would claim


def test_warm_start_reaches_the_cold_optimum_in_a_step_or_two() -> None:
    prefs, _ = simulate_pairs(300, 60_000, seed=5)
    config = ScoringConfig(interval_draws=0)
    cold = fit_ratings(prefs, config)
    assert cold.report["converged"] == 1
    again = fit_ratings(prefs, config, start=cold)
    assert np.allclose(again.theta, cold.theta, atol=1e-6)
    assert again.report["steps"] <= 1 < int(cold.report["steps"])
    # the next day: 3% more rows; warm from yesterday's ratings as a frame, positions as effects
    more = pl.concat([prefs, simulate_pairs(300, 2_000, seed=5, day=1)[0]]).group_by(
        "winner", "loser", "winner_pos", "loser_pos").agg(pl.col("count").sum())
    today_cold = fit_ratings(more, config)
    yesterday = pl.DataFrame({"id": cold.ids, "quality_rating": cold.theta})
    today_warm = fit_ratings(more, config, start=yesterday, start_position_effects=cold.position_effects)
    assert today_warm.ids == today_cold.ids
    assert np.max(np.abs(today_warm.theta - today_cold.theta)) < 1e-4
    assert np.max(np.abs(today_warm.position_effects - today_cold.position_effects)) < 1e-4
    assert int(today_warm.report["steps"]) <= 4
    assert int(today_warm.report["steps"]) < int(today_cold.report["steps"])
    assert today_warm.report["start"] == "warm"
    assert today_cold.report["start"] == "cold"
    # a mapping works as well, and names of artifacts no longer rated are ignored
    mapped = fit_ratings(more, config, start={**dict(zip(cold.ids, cold.theta.tolist(), strict=True)), "gone": 3.0})
    assert np.max(np.abs(mapped.theta - today_cold.theta)) < 1e-4


def test_prior_means_move_the_fit_and_an_artifact_without_rows_keeps_its_prior_mean() -> None:
    prefs = pl.DataFrame({"winner": ["a", "b", "a"], "loser": ["b", "a", "c"], "winner_pos": [1, 2, 3],
                          "loser_pos": [2, 1, 1], "count": [5, 2, 1]})
    means = {"a": 0.4, "b": -0.8, "c": 1.2, "board-only": 0.7}
    result = fit_ratings(prefs, ScoringConfig(interval_draws=50), prior_mean=means, ids=["board-only"])
    assert result.ids == ["a", "b", "board-only", "c"]
    rated = dict(zip(result.ids, result.theta, strict=True))
    assert rated["board-only"] == pytest.approx(0.7, abs=1e-12)
    assert result.comparisons[2] == 0
    assert result.lo[2] == pytest.approx(0.7 - 1.96 * 1.5, abs=1e-3)
    assert result.hi[2] == pytest.approx(0.7 + 1.96 * 1.5, abs=1e-3)

    def strength(theta: float, gamma: float, position: int) -> float:
        if position == 1:
            return theta
        rho = 1 / (1 + math.exp(-theta)) / (1 + math.exp(-gamma))
        return math.log(rho / (1 - rho))

    def neg_log_posterior(x: np.ndarray) -> float:
        theta = {"a": x[0], "b": x[1], "c": x[2]}
        gamma = [0.0, 0.0, *x[3:]]  # positions 1..3 are used; 4..10 stay at 0
        total = sum((theta[i] - means[i]) ** 2 for i in theta) / (2 * 1.5**2) + float(x[3:] @ x[3:]) / (2 * 3.0**2)
        for w, lo, pw, pl_, n in prefs.iter_rows():
            z = strength(theta[w], gamma[pw], pw) - strength(theta[lo], gamma[pl_], pl_)
            total += n * math.log1p(math.exp(-z))
        return total

    best = optimize.minimize(neg_log_posterior, np.zeros(5), method="BFGS", options={"gtol": 1e-10}).x
    for i, name in enumerate("abc"):
        assert rated[name] == pytest.approx(best[i], abs=1e-5)
    # the same rows with the array form of the prior means
    aligned = fit_ratings(prefs, ScoringConfig(interval_draws=0), prior_mean=np.array([0.4, -0.8, 1.2, 0.7]),
                          ids=["a", "b", "c", "board-only"])
    assert np.allclose(aligned.theta, result.theta, atol=1e-9)


def test_fit_reports_its_steps() -> None:
    prefs, _ = simulate_pairs(200, 30_000, seed=8)
    result = fit_ratings(prefs, ScoringConfig(interval_draws=20))
    report = result.report
    assert report["converged"] == 1
    assert 1 <= int(report["steps"]) <= 30
    assert int(report["objective_evaluations"]) >= int(report["steps"]) + 1
    assert int(report["cg_iterations"]) >= int(report["steps"])
    assert report["interval_method"] == "rao-blackwell"
    assert report["interval_draws"] == 20
    assert report["artifacts"] == len(result.ids)
    assert report["rows"] == prefs.height
    assert {"prepare_s", "fit_s", "intervals_s"} <= set(report)
    # past the draw limit the intervals come from the curvature alone
    capped = fit_ratings(prefs, ScoringConfig(interval_draws=20, draw_intervals_max_artifacts=10))
    assert capped.report["interval_method"] == "schur"
    assert capped.report["interval_draws"] == 0
    assert np.allclose(capped.theta, result.theta)


def _problem(prefs: pl.DataFrame) -> tuple[rating._Problem, np.ndarray]:
    result = fit_ratings(prefs, ScoringConfig(interval_draws=0))
    code = {name: i for i, name in enumerate(result.ids)}
    w = np.array([code[x] for x in prefs["winner"]])
    lo = np.array([code[x] for x in prefs["loser"]])
    problem = rating._Problem(w, lo, prefs["winner_pos"].to_numpy() - 1, prefs["loser_pos"].to_numpy() - 1,
                              prefs["count"].to_numpy().astype(float), len(result.ids), np.zeros(len(result.ids)),
                              1.5, 3.0)
    gamma = result.position_effects[1:] - np.log(-np.expm1(result.position_effects[1:]))
    return problem, np.concatenate([result.theta, gamma])


def _dense(curvature: rating._Curvature) -> np.ndarray:
    top = np.hstack([curvature.off.toarray() + np.diag(curvature.diag), curvature.cross])
    return np.vstack([top, np.hstack([curvature.cross.T, curvature.pos])])


def test_newton_curvature_is_the_derivative_of_the_gradient() -> None:
    problem, x = _problem(simulate_pairs(30, 4_000, seed=3)[0])
    rng = np.random.default_rng(0)
    at = x + rng.normal(0, 0.3, x.size)  # away from the optimum, where Newton and Gauss-Newton differ
    hessian = _dense(problem.curvature(problem.evaluate(at), newton=True))
    step = 1e-6
    numeric = np.column_stack([
        (problem.gradient(problem.evaluate(at + step * e)) - problem.gradient(problem.evaluate(at - step * e)))
        / (2 * step) for e in np.eye(x.size)])
    assert np.allclose(hessian, numeric, rtol=1e-5, atol=1e-5)
    gauss_newton = _dense(problem.curvature(problem.evaluate(at), newton=False))
    assert not np.allclose(gauss_newton, numeric, rtol=1e-3, atol=1e-3)


def test_interval_sd_is_the_diagonal_of_the_inverse_curvature() -> None:
    prefs = simulate_pairs(150, 20_000, seed=4)[0]
    problem, x = _problem(prefs)
    exact = np.sqrt(np.diag(np.linalg.inv(_dense(problem.curvature(problem.evaluate(x), newton=False)))))
    m = problem.m
    drawn = fit_ratings(prefs, ScoringConfig(interval_draws=200)).sd
    schur = fit_ratings(prefs, ScoringConfig(interval_draws=0)).sd
    assert np.allclose(drawn, exact[:m], rtol=0.05)
    assert np.median(np.abs(drawn / exact[:m] - 1)) < 0.01
    assert np.all(schur <= exact[:m] * 1.001)  # the one-level Schur complement can only be short
    assert np.median(schur / exact[:m]) > 0.97
