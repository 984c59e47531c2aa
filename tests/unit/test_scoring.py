"""Each sub-score on small graphs, with values worked out by hand (or by an independent formula)."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import networkx as nx
import numpy as np
import polars as pl
import pytest
from scipy import optimize

from graph.embedded import EmbeddedStore
from graph.tables import GraphDelta, Table, preference_pairs
from queries.graphrank import pagerank
from queries.rating import fit_ratings
from queries.scoring import ScoringConfig, compute_scores, score

AS_OF = date(2026, 3, 1)


def _artifacts(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame([{"catalogued": True, "name": r["id"], **r} for r in rows], infer_schema_length=None)


def _scores(store: EmbeddedStore, **kw: object) -> dict[str, dict[str, object]]:
    config = ScoringConfig(as_of=AS_OF, interval_draws=0, **kw)  # type: ignore[arg-type]
    return {r["id"]: r for r in compute_scores(store, config).to_dicts()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pagerank_equals_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 60, 240
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    weight = rng.uniform(0.1, 5.0, src.size)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    for s, d, w in zip(src, dst, weight, strict=True):
        if graph.has_edge(s, d):
            graph[s][d]["weight"] += w
        else:
            graph.add_edge(s, d, weight=w)
    expected = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-12, max_iter=1000)
    ours = pagerank(src, dst, weight, n, alpha=0.85)
    assert np.max(np.abs(ours - np.array([expected[i] for i in range(n)]))) < 1e-6
    assert ours.sum() == pytest.approx(1.0, abs=1e-9)


def test_adoption_decays_demand_and_log_scales_within_type(embedded: EmbeddedStore) -> None:
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([
        {"id": "a", "type": "model", "stars": 99.0},
        {"id": "b", "type": "model", "stars": 9.0},
        {"id": "c", "type": "repo"},
    ])).set(Table.DAILY, pl.DataFrame({
        "artifact": ["a", "b", "b", "c"],
        "day": [AS_OF, AS_OF, AS_OF - timedelta(days=30), AS_OF],
        "matched": [1, 4, 8, 5], "clicks": [1, 0, 0, 0],
    })))
    s = _scores(embedded)
    # demand: a = 1 + 3*1 = 4; b = 4 + 8 * 2^-1 = 8; c = 5 (alone in its type)
    # demand part: a = ln 5 / ln 9, b = 1; signal part (stars): a = 1, b = ln 10 / ln 100 = 0.5
    assert s["a"]["adoption"] == pytest.approx(100 * (0.6 * math.log(5) / math.log(9) + 0.4 * 1.0), abs=1e-5)
    assert s["b"]["adoption"] == pytest.approx(100 * (0.6 * 1.0 + 0.4 * 0.5), abs=1e-5)
    # c has no external signal: the demand part alone
    assert s["c"]["adoption"] == pytest.approx(100.0, abs=1e-9)


def test_adoption_counts_distinct_sessions(embedded: EmbeddedStore) -> None:
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([
        {"id": "spread", "type": "model"}, {"id": "one-session", "type": "model"}]))
        .set(Table.DAILY, pl.DataFrame({"artifact": ["spread", "one-session"], "day": [AS_OF, AS_OF],
                                        "matched": [4, 4], "clicks": [0, 0], "sessions": [4, 1]})))
    s = _scores(embedded)
    # demand: spread = 4 + 2*4 = 12 (the type max), one-session = 4 + 2*1 = 6
    assert s["spread"]["adoption"] == pytest.approx(100.0)
    assert s["one-session"]["adoption"] == pytest.approx(100 * math.log(7) / math.log(13), abs=1e-6)


def test_adoption_half_life_is_configurable(embedded: EmbeddedStore) -> None:
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([
        {"id": "old", "type": "model"}, {"id": "new", "type": "model"}]))
        .set(Table.DAILY, pl.DataFrame({"artifact": ["old", "new"], "day": [AS_OF - timedelta(days=10), AS_OF],
                                        "matched": [4, 2], "clicks": [0, 0]})))
    short = _scores(embedded, half_life_days=10.0)  # old: 4 * 0.5 = 2 = new
    assert short["old"]["adoption"] == pytest.approx(short["new"]["adoption"])
    long_ = _scores(embedded, half_life_days=1000.0)
    assert long_["old"]["adoption"] > long_["new"]["adoption"]


def test_quality_matches_the_model_written_out_by_hand(embedded: EmbeddedStore) -> None:
    # a beat b 6 times and lost 2 times, half of each with a on top.
    prefs = pl.DataFrame({
        "winner": ["a", "a", "b", "b"], "loser": ["b", "b", "a", "a"],
        "winner_pos": [1, 2, 1, 2], "loser_pos": [2, 1, 2, 1], "count": [3, 3, 1, 1],
    })
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([{"id": "a", "type": "model"},
                                                                  {"id": "b", "type": "model"}]))
                   .set(Table.PREFERRED_OVER, preference_pairs(prefs)))

    def strength(theta: float, gamma: float, position: int) -> float:
        if position == 1:
            return theta
        rho = 1 / (1 + math.exp(-theta)) / (1 + math.exp(-gamma))
        return math.log(rho / (1 - rho))

    def neg_log_posterior(x: np.ndarray) -> float:
        theta = {"a": x[0], "b": x[1]}
        total = (x[0] ** 2 + x[1] ** 2) / (2 * 1.5**2) + x[2] ** 2 / (2 * 3.0**2)
        for w, lo, pw, pl_, n in prefs.iter_rows():
            z = strength(theta[w], x[2], pw) - strength(theta[lo], x[2], pl_)
            total += n * math.log1p(math.exp(-z))
        return total

    best = optimize.minimize(neg_log_posterior, np.zeros(3), method="Nelder-Mead",
                             options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20_000}).x
    ratings = fit_ratings(prefs, ScoringConfig(interval_draws=0))
    theta = dict(zip(ratings.ids, ratings.theta, strict=True))
    assert theta["a"] == pytest.approx(best[0], abs=1e-4)
    assert theta["b"] == pytest.approx(best[1], abs=1e-4)
    assert theta["a"] > 0 > theta["b"]
    assert ratings.position_effects[1] == pytest.approx(-math.log1p(math.exp(-best[2])), abs=1e-4)
    s = _scores(embedded)
    assert s["a"]["comparisons"] == 8
    assert s["a"]["low_confidence"] is True  # fewer than 10
    # the stored quality is the choices' chance blended with the type's mean: (m q + k mean) / (m + k)
    choice = {k: json.loads(str(s[k]["evidence"]))["quality_choices"] for k in "ab"}
    for k in "ab":
        assert choice[k] == pytest.approx(100 / (1 + math.exp(-float(s[k]["quality_rating"]))), abs=1e-6)
    assert s["a"]["quality"] == pytest.approx((8 * choice["a"] + 10 * (choice["a"] + choice["b"]) / 2) / 18, abs=1e-4)
    assert choice["a"] > choice["b"]


def test_quality_without_evidence_is_null(embedded: EmbeddedStore) -> None:
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([{"id": "lonely", "type": "model"}])))
    s = _scores(embedded)["lonely"]
    assert s["quality"] is None
    assert s["comparisons"] == 0
    assert s["low_confidence"] is True
    assert s["quality_rating"] is None
    assert s["evidence_share"] == 0.0


def test_benchmarks_carry_quality_where_comparisons_are_few(embedded: EmbeddedStore) -> None:
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([
        {"id": "m1", "type": "model"}, {"id": "m2", "type": "model"}, {"id": "m3", "type": "model"},
        {"id": "r1", "type": "repo"}]))
        .set(Table.BENCHMARKS, pl.DataFrame({"artifact": ["m1", "m2", "m3", "m1", "m2", "r1"],
                                             "benchmark": ["IFEval", "IFEval", "IFEval", "BBH", "BBH", "IFEval"],
                                             "score": [70.0, 50.0, 10.0, 30.0, 40.0, 99.0]}))
        .set(Table.PREFERRED_OVER, preference_pairs(pl.DataFrame({
            "winner": ["m2"], "loser": ["m3"], "winner_pos": [1], "loser_pos": [2], "count": [4]}))))
    s = _scores(embedded)
    # percentiles within type, mid-rank: IFEval m1 100*(3-1+.5)/3, m2 50, m3 100*.5/3; BBH m2 75, m1 25
    assert s["m1"]["quality"] == pytest.approx((250 / 3 + 25) / 2, abs=1e-4)  # benchmarks alone
    bench_m2 = (50 + 75) / 2
    choice_m2 = json.loads(str(s["m2"]["evidence"]))["quality_choices"]
    assert s["m2"]["quality"] == pytest.approx((4 * choice_m2 + 10 * bench_m2) / 14, abs=1e-4)
    evidence = json.loads(str(s["m2"]["evidence"]))
    assert evidence["choice_weight"] == pytest.approx(4 / 14)
    assert evidence["benchmark_weight"] == pytest.approx(10 / 14)
    assert [(b["name"], b["percentile"], b["of"]) for b in evidence["benchmark_results"]] == [
        ("BBH", 75.0, 2), ("IFEval", 50.0, 3)]
    assert s["r1"]["quality"] is None  # the only repo with IFEval: nothing to place it among


def test_bootstrap_interval_contains_the_estimate_and_narrows_with_data() -> None:
    def prefs(k: int) -> pl.DataFrame:
        return pl.DataFrame({"winner": ["a", "b"], "loser": ["b", "a"], "winner_pos": [1, 1], "loser_pos": [2, 2],
                             "count": [3 * k, k]})
    small = fit_ratings(prefs(2), ScoringConfig(interval_draws=60))
    large = fit_ratings(prefs(40), ScoringConfig(interval_draws=60))
    for r in (small, large):
        assert np.all(r.lo <= r.theta + 1e-9)
        assert np.all(r.theta <= r.hi + 1e-9)
    assert (large.hi - large.lo)[0] < (small.hi - small.lo)[0]


def test_match_graph_is_log_pagerank_normalized_within_type(embedded: EmbeddedStore) -> None:
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([
        {"id": "hub", "type": "model"}, {"id": "x", "type": "model"}, {"id": "y", "type": "model"},
        {"id": "iso", "type": "model"},
    ])).set(Table.CO_MATCHED, pl.DataFrame({"a": ["hub", "hub"], "b": ["x", "y"], "count": [1, 1]})))
    s = _scores(embedded)
    assert s["hub"]["match_graph"] == pytest.approx(100.0)
    assert s["iso"]["match_graph"] == 0.0
    # independent check with networkx: score = 100 * ln(pr/pr_iso) / ln(pr_hub/pr_iso)
    g = nx.DiGraph()
    g.add_nodes_from(["hub", "x", "y", "iso"])
    for a, b in (("hub", "x"), ("hub", "y")):
        g.add_edge(a, b, weight=1.0)
        g.add_edge(b, a, weight=1.0)
    pr = nx.pagerank(g, weight="weight", tol=1e-12, max_iter=10_000)
    expected = 100 * math.log(pr["x"] / pr["iso"]) / math.log(pr["hub"] / pr["iso"])
    assert s["x"]["match_graph"] == pytest.approx(expected, abs=1e-4)


def test_ecosystem_parts(embedded: EmbeddedStore) -> None:
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([
        {"id": "base", "type": "model", "provider": "p"}, {"id": "base2", "type": "model", "provider": "p"},
        {"id": "ft1", "type": "finetune"}, {"id": "ft2", "type": "finetune"}, {"id": "ft3", "type": "finetune"},
    ])).set(Table.DERIVED_FROM, pl.DataFrame({"src": ["ft1", "ft2", "ft3"], "dst": ["base", "base", "base2"]})))
    s = _scores(embedded)
    # derived works: base 2, base2 1 -> base2 gets ln2/ln3 of the 0.35 part; both have 1 provider peer
    assert s["base"]["ecosystem"] == pytest.approx(100 * (0.35 + 0.15), abs=1e-6)
    assert s["base2"]["ecosystem"] == pytest.approx(100 * (0.35 * math.log(2) / math.log(3) + 0.15), abs=1e-6)
    assert s["ft1"]["ecosystem"] is None  # no lineage, integration, peer or reach known: no number


def test_freshness(embedded: EmbeddedStore) -> None:
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([
        {"id": "a", "type": "model", "released": AS_OF - timedelta(days=365)},
        {"id": "b", "type": "model"},
    ])).set(Table.DAILY, pl.DataFrame({"artifact": ["a", "b"], "day": [AS_OF, AS_OF - timedelta(days=30)],
                                       "matched": [1, 1], "clicks": [0, 0]})))
    s = _scores(embedded)
    assert s["a"]["freshness"] == pytest.approx(100 * (0.5 + 1.0) / 2)
    assert s["b"]["freshness"] == pytest.approx(50.0)


def test_rank_is_the_weighted_mean_of_the_sub_scores_with_evidence(embedded: EmbeddedStore) -> None:
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([
        {"id": "a", "type": "model", "stars": 10.0}, {"id": "b", "type": "model"}]))
        .set(Table.PREFERRED_OVER, preference_pairs(pl.DataFrame({"winner": ["a"], "loser": ["b"], "winner_pos": [1],
                                                                  "loser_pos": [2], "count": [1]}))))
    s = _scores(embedded)
    a, b = s["a"], s["b"]
    # a: adoption (stars) and quality have evidence; no logs, no links, no dates: the rest are null
    assert (a["match_graph"], a["ecosystem"], a["freshness"]) == (None, None, None)
    assert a["rank"] == round((25 * a["adoption"] + 25 * a["quality"]) / 50)
    assert a["evidence_share"] == pytest.approx(0.5)
    # b: quality alone, a quarter of the weight: scored but not ranked
    assert b["adoption"] is None
    assert b["evidence_share"] == pytest.approx(0.25)
    assert b["position"] is None
    assert a["position"] == 1.0
    assert a["type_ranked"] == 1.0


def test_one_lucky_click_does_not_make_a_leader(embedded: EmbeddedStore) -> None:
    rows = [{"id": f"m{i}", "type": "model"} for i in range(6)] + [{"id": "lucky", "type": "model"}]
    # m0..m5 play each other many times (m0 strongest); lucky wins a single comparison against m5
    w, lo, n = [], [], []
    for i in range(6):
        for j in range(i + 1, 6):
            w += [f"m{i}", f"m{j}"]
            lo += [f"m{j}", f"m{i}"]
            n += [30, 10]
    w.append("lucky")
    lo.append("m5")
    n.append(1)
    prefs = pl.DataFrame({"winner": w, "loser": lo, "winner_pos": [1] * len(w), "loser_pos": [2] * len(w),
                          "count": n})
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts(rows))
                   .set(Table.PREFERRED_OVER, preference_pairs(prefs)))
    s = _scores(embedded)
    assert s["lucky"]["rank"] < s["m0"]["rank"]


def test_monotonic_in_wins_and_matches(embedded: EmbeddedStore) -> None:
    arts = _artifacts([{"id": x, "type": "model"} for x in ("a", "b", "c")])
    prefs = pl.DataFrame({"winner": ["a", "b", "c"], "loser": ["b", "c", "a"], "winner_pos": [1, 1, 1],
                          "loser_pos": [2, 2, 2], "count": [2, 2, 2]})
    daily = pl.DataFrame({"artifact": ["a", "b", "c"], "day": [AS_OF] * 3, "matched": [3, 5, 2], "clicks": [0] * 3})
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, arts).set(Table.PREFERRED_OVER, preference_pairs(prefs))
                   .set(Table.DAILY, daily))
    before = _scores(embedded)
    one_more = preference_pairs(prefs.head(1).with_columns(pl.lit(1).alias("count")))
    embedded.apply(GraphDelta().set(Table.PREFERRED_OVER, one_more)
                   .set(Table.DAILY, daily.head(1).with_columns(pl.lit(1).alias("matched"))))
    after = _scores(embedded)
    assert after["a"]["quality"] > before["a"]["quality"]
    assert after["a"]["adoption"] >= before["a"]["adoption"]


def test_scores_are_identical_across_runs_and_written_back(embedded: EmbeddedStore) -> None:
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts([{"id": "a", "type": "model", "stars": 5.0},
                                                                  {"id": "b", "type": "model"}]))
                   .set(Table.PREFERRED_OVER, preference_pairs(pl.DataFrame({
                       "winner": ["a"], "loser": ["b"], "winner_pos": [2], "loser_pos": [1], "count": [4]}))))
    config = ScoringConfig(as_of=AS_OF, interval_draws=30)
    first = compute_scores(embedded, config)
    second = compute_scores(embedded, config)
    assert first.equals(second)
    report = score(embedded, config)
    assert report.artifacts == 2
    stored = embedded.table(Table.SCORES).sort("id")
    assert stored.drop("evidence", "rank_delta").equals(first.sort("id").drop("evidence", "rank_delta"))
    history = embedded.table(Table.RANK_HISTORY)
    assert history.get_column("id").to_list() == ["a"]  # b rests on too little evidence to be ranked
    assert history.get_column("as_of").to_list() == [AS_OF]
    again = score(embedded, config)  # nothing new: no rank changes, no history row
    assert again.changed is False
    assert embedded.table(Table.RANK_HISTORY).height == 1


def test_price_quality_frontier_within_type(embedded: EmbeddedStore) -> None:
    rows = [{"id": "cheap", "type": "model", "price_input": 1.0, "price_output": 1.0},
            {"id": "mid", "type": "model", "price_input": 2.0, "price_output": 6.0},
            {"id": "dear", "type": "model", "price_input": 10.0, "price_output": 30.0},
            {"id": "free-weights", "type": "model", "pricing": "free"},
            {"id": "other-type", "type": "api", "price_input": 0.1, "price_output": 0.1}]
    scores = {"cheap": 40.0, "mid": 70.0, "dear": 60.0, "free-weights": 90.0, "other-type": 99.0}
    embedded.apply(GraphDelta().set(Table.ARTIFACTS, _artifacts(rows)).set(Table.BENCHMARKS, pl.DataFrame({
        "artifact": list(scores), "benchmark": ["b"] * 5, "score": list(scores.values())})))
    s = _scores(embedded)
    price = {k: json.loads(str(v["evidence"]))["price"] for k, v in s.items()}
    assert price["cheap"]["per_mtok"] == 1.0
    assert price["mid"]["per_mtok"] == 3.0  # (3 * 2 + 6) / 4
    assert price["cheap"]["frontier"] is True
    assert price["mid"]["frontier"] is True
    assert price["dear"] == {"per_mtok": 15.0, "frontier": False, "beaten_by": "mid", "beaten_by_price": 3.0,
                             "beaten_by_quality": round(s["mid"]["quality"], 2), "priced_peers": 3}
    assert price["free-weights"]["per_mtok"] is None  # "free" without a list price is no price
    assert price["free-weights"]["frontier"] is None
    assert price["other-type"]["frontier"] is None  # alone in its type: its benchmark places it nowhere


def test_log_provenance_comes_from_the_file_names(embedded: EmbeddedStore) -> None:
    from datetime import UTC, datetime

    from queries.trust import log_sources

    def ledger(*sources: str) -> pl.DataFrame:
        n = len(sources)
        return pl.DataFrame({"sha256": [f"h{i}{s}" for i, s in enumerate(sources)], "source": list(sources),
                             "kind": ["logs"] * n, "size": [1] * n, "rows": [1] * n,
                             "ingested_at": [datetime(2026, 1, 1, tzinfo=UTC)] * n})

    with embedded.reader() as r:
        assert log_sources(r) == "none"
    embedded.apply(GraphDelta().set(Table.LEDGER, ledger("/x/searches.synthetic.jsonl.gz")))
    with embedded.reader() as r:
        assert log_sources(r) == "synthetic"
    embedded.apply(GraphDelta().set(Table.LEDGER, ledger("/x/2026-01-02.jsonl")))
    with embedded.reader() as r:
        assert log_sources(r) == "mixed"


def test_rank_ranges_are_the_same_drawn_on_several_threads_and_match_a_plain_reference() -> None:
    """The composite's draws and each draw's place within its type: the threaded loop gives the
    arrays one thread gives, and both equal a draw-by-draw reference written with lexsort."""
    from queries.scoring import _uncertainty
    from queries.subscores import REGISTRY

    rng = np.random.default_rng(5)
    n = 400
    names = [s.name for s in REGISTRY]
    compared = rng.random(n) < 0.7
    theta = rng.normal(0.0, 1.0, n)
    frame = pl.DataFrame({
        "id": [f"a{i:03d}" for i in range(n)],
        "type": rng.choice(["model", "repo", "agent"], n).tolist(),
        # rounded to two places so that many composites tie, drawn and fixed ones alike
        "composite": np.round(rng.uniform(20.0, 80.0, n), 2),
        "comparisons": np.where(compared, rng.integers(1, 50, n), 0),
        "quality": np.where(compared, 50.0, np.nan),
        "quality_rating": theta,
        "quality_lo": theta - rng.uniform(0.1, 1.0, n),
        "quality_hi": theta + rng.uniform(0.1, 1.0, n),
        "choice_weight": rng.uniform(0.2, 1.0, n),
        "_ranked": rng.random(n) < 0.95,
        **{f"w_{name}": np.full(n, 1.0) for name in names},
        **{name: np.full(n, 50.0) for name in names},
    }).with_columns(pl.col("quality").fill_nan(None))
    config = ScoringConfig(rank_draws=40, seed=11)
    one, three = _uncertainty(frame, config, workers=1), _uncertainty(frame, config, workers=3)
    assert one.equals(three)

    # the reference: the same draws, ranked per draw with lexsort, percentiles row by row
    ranked = frame.filter(pl.col("_ranked")).sort("type", "composite", "id", descending=[False, True, False])
    m = ranked.height
    types = ranked.get_column("type").to_numpy()
    composite = ranked.get_column("composite").to_numpy()
    theta_r = ranked.get_column("quality_rating").to_numpy()
    down = (theta_r - ranked.get_column("quality_lo").to_numpy()) / 1.959963984540054
    up = (ranked.get_column("quality_hi").to_numpy() - theta_r) / 1.959963984540054
    moves = (ranked.get_column("comparisons").to_numpy() > 0) & ranked.get_column("quality").is_not_null().to_numpy()
    slope = np.where(moves, ranked.get_column("choice_weight").to_numpy() / len(names), 0.0)
    drawn = np.flatnonzero(slope != 0.0)
    draws_rng = np.random.default_rng([11, 14])
    samples, places = np.empty((40, m)), np.empty((40, m))
    for j in range(40):
        z = draws_rng.standard_normal(m)[drawn]
        value = composite.copy()
        shifted = theta_r[drawn] + np.where(z < 0, down[drawn], up[drawn]) * z
        value[drawn] += slope[drawn] * (100.0 / (1.0 + np.exp(-shifted)) - 100.0 / (1.0 + np.exp(-theta_r[drawn])))
        samples[j] = value.astype(np.float32)
        order = np.lexsort((np.arange(m), -value, types))
        for place, row in enumerate(order):
            places[j, row] = place - np.searchsorted(types[order], types[row]) + 1
    got = one.filter(pl.col("_ranked")).sort("type", "composite", "id", descending=[False, True, False])
    low, high = np.percentile(samples.astype(np.float32), [2.5, 97.5], axis=0)
    assert np.allclose(got.get_column("composite_lo").to_numpy(), np.round(np.minimum(low, composite), 4), atol=1e-4)
    assert np.allclose(got.get_column("composite_hi").to_numpy(), np.round(np.maximum(high, composite), 4), atol=1e-4)
    position = got.get_column("position").to_numpy()
    reference_lo = np.minimum(np.sort(places, axis=0)[int(np.floor(0.025 * 39))], position)
    reference_hi = np.maximum(np.sort(places, axis=0)[int(np.ceil(0.975 * 39))], position)
    assert np.array_equal(got.get_column("rank_lo").to_numpy(), reference_lo)
    assert np.array_equal(got.get_column("rank_hi").to_numpy(), reference_hi)
    # the fixed artifacts move only as drawn ones pass them, and some ranges are wider than one place
    assert (got.get_column("rank_hi") - got.get_column("rank_lo")).max() > 2
    assert got.get_column("type_ranked").to_list() == [float((types == t).sum()) for t in types]
