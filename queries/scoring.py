"""How every score is computed: the one place that defines the sub-scores and the composite rank.

All sub-scores are 0-100 and computed from the store's tables and per-artifact aggregates, so the
embedded store and Neo4j give the same numbers for the same graph. "Within type" means among the
artifacts of the same ``type``. ``as_of`` is the last day seen in the logs (or the newest release
date when there are no logs), so the same input always gives the same scores.

adoption
    Demand seen in the logs, ``d = sum over days of 2^(-age/half_life) * (matched + 3 * clicks +
    2 * sessions)`` (sessions: distinct sessions that met it that day),
    log-scaled and normalized within type as ``log1p(d) / log1p(max d of the type)``; external
    signals (downloads, stars, likes, dependents, forks, contributors) each normalized the same way,
    averaged over the signals the artifact has. adoption = 100 * weighted mean of the demand part
    (weight 0.6, when the store holds any logs) and the signal part (weight 0.4, when it has any).
quality
    Bradley-Terry ratings with position terms fitted to PREFERRED_OVER. A row says a person chose
    ``w`` at position ``p`` while ``l`` was shown at ``q`` and not chosen. Under the position-based
    click model, the artifact at position ``k`` is clicked with probability ``rho = e_k * a`` where
    ``a = sigmoid(theta)`` is its attractiveness and ``e_k`` the chance that position ``k`` is looked
    at (``e_1 = 1``); given that exactly one of the two was clicked, ``w`` was the one with
    probability ``sigmoid(L(w, p) - L(l, q))``, ``L = log(rho / (1 - rho))``. Ratings and the
    examination curve are fitted jointly by weighted maximum likelihood (damped Gauss-Newton) with a Gaussian
    prior (sd 1.5) on theta, so an artifact without evidence stays at 0 and sparse ones stay
    finite. 95% intervals by a one-step Poisson bootstrap (100 rounds) or, past 5,000 rated artifacts, from the
    curvature of the likelihood. quality = 100 * sigmoid(theta): the chance that a person who looks
    at it picks it. Fewer than 10 comparisons flags it low-confidence.
match_graph
    Weighted PageRank (damping 0.85) over CO_MATCHED (both directions, weight = searches) and
    intent -> artifact MATCHED edges (weight = searches), with scipy sparse matrices. With ``r`` the
    PageRank times the number of nodes and ``r0`` the value of a node without edges:
    match_graph = 100 * log(r / r0) / log(max r of the type / r0).
ecosystem
    Derived works pointing at it (weight 0.35), integrations (0.30), other artifacts of its provider
    (0.15) and reach through shared capabilities (``capability_peers``, 0.20), each
    ``log1p(x) / log1p(max x of the type)``. ecosystem = 100 * weighted sum.
freshness
    Release age (``2^(-age/365 days)``) and the recency of its last match (``2^(-days/half_life)``);
    freshness = 100 * mean of the parts it has (0 with neither).
rank
    The weighted mean of the five sub-scores, weights per type from ``weights.toml`` (defaults
    adoption 25, quality 25, match_graph 25, ecosystem 15, freshness 10), rounded to an integer.
    Quality is first shrunk toward the mean quality of its type: with ``m`` comparisons,
    ``(m * quality + 10 * type_mean) / (m + 10)``, so one lucky click never makes a leader.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from scipy import sparse

from graph.schema import SIGNALS
from graph.tables import GraphDelta, Table, conform
from queries.rating import fit_ratings

if TYPE_CHECKING:
    from pathlib import Path

    from graph.store import GraphStore

SUBSCORES = ("adoption", "quality", "match_graph", "ecosystem", "freshness")
SIGNAL_WEIGHTS = {"downloads": 1.0, "stars": 1.0, "likes": 1.0, "dependents": 1.0, "forks": 0.5,
                  "contributors": 0.5}
ECOSYSTEM_PARTS = {"derived_works": 0.35, "integrations": 0.30, "provider_peers": 0.15,
                   "capability_peers": 0.20}


def load_weights(path: Path | None = None) -> dict[str, dict[str, float]]:
    """Weights per type (and ``default``) from a TOML file; the packaged one when ``path`` is None."""
    text = path.read_text() if path else resources.files("queries").joinpath("weights.toml").read_text()
    data = tomllib.loads(text)
    out: dict[str, dict[str, float]] = {}
    for type_name, row in data.items():
        unknown = set(row) - set(SUBSCORES)
        if unknown:
            raise ValueError(f"weights for {type_name!r} name unknown sub-scores: {sorted(unknown)}")
        out[type_name] = {k: float(row.get(k, 0.0)) for k in SUBSCORES}
        if sum(out[type_name].values()) <= 0:
            raise ValueError(f"weights for {type_name!r} must not all be zero")
    if "default" not in out:
        raise ValueError("the weights file needs a [default] section")
    return out


@dataclass(frozen=True)
class ScoringConfig:
    half_life_days: float = 30.0
    release_half_life_days: float = 365.0
    click_weight: float = 3.0
    session_weight: float = 2.0
    prior_sd: float = 1.5
    position_prior_sd: float = 3.0
    bootstrap_rounds: int = 100
    bootstrap_max_artifacts: int = 5_000
    min_comparisons: int = 10
    shrink_k: float = 10.0
    damping: float = 0.85
    seed: int = 20_260_101
    as_of: date | None = None
    weights: dict[str, dict[str, float]] = field(default_factory=load_weights)


# -- PageRank --------------------------------------------------------------------------------------
def pagerank(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int, *, alpha: float = 0.85,
             tol: float = 1e-10, max_iter: int = 1000) -> np.ndarray:
    """Weighted PageRank by power iteration on a scipy sparse matrix built straight from edge arrays.

    The same iteration as ``networkx.pagerank``: rows normalized by out-weight, dangling nodes
    spread their mass uniformly, uniform teleport; parallel edges add their weights.
    """
    if n == 0:
        return np.zeros(0)
    matrix = sparse.csr_array((weight.astype(np.float64), (src, dst)), shape=(n, n))
    out = np.asarray(matrix.sum(axis=1)).ravel()
    inv = np.divide(1.0, out, out=np.zeros_like(out), where=out != 0)
    transition = sparse.diags_array(inv) @ matrix
    dangling = out == 0
    x = np.full(n, 1.0 / n)
    p = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = alpha * (x @ transition + x[dangling].sum() * p) + (1 - alpha) * p
        if np.abs(x - last).sum() < n * tol:
            break
    return np.asarray(x)


# -- helpers -------------------------------------------------------------------------------------------
def _sigmoid(x: pl.Expr) -> pl.Expr:
    return 1.0 / (1.0 + (-x).exp())


def _log_share(column: str) -> pl.Expr:
    """``log1p(x) / log1p(max x of the type)``, 0 where the type's max is 0, null where x is null."""
    top = pl.col(column).max().over("type")
    return (
        pl.when(pl.col(column).is_null()).then(None)
        .when(top > 0).then(pl.col(column).log1p() / top.log1p())
        .otherwise(0.0)
    )


def _as_of(store: GraphStore, config: ScoringConfig) -> date:
    if config.as_of:
        return config.as_of
    last = store.table(Table.DAILY).get_column("day").max()
    if isinstance(last, date):
        return last
    released = store.table(Table.ARTIFACTS).get_column("released").max()
    return released if isinstance(released, date) else datetime.now(UTC).date()


# -- the scores ---------------------------------------------------------------------------------------
def compute_scores(store: GraphStore, config: ScoringConfig) -> pl.DataFrame:
    """Every artifact's sub-scores, rank and evidence, in the ``scores`` table's schema."""
    as_of = _as_of(store, config)
    artifacts = store.table(Table.ARTIFACTS).select("id", "type", "released", *SIGNALS)
    stats = store.artifact_stats()
    frame = artifacts.join(stats, on="id", how="left").sort("id")

    # adoption: decayed demand + external signals
    daily = store.table(Table.DAILY)
    has_logs = daily.height > 0
    decay = (2.0 ** (-(pl.lit(as_of) - pl.col("day")).dt.total_days().clip(lower_bound=0) / config.half_life_days))
    demand = daily.group_by("artifact").agg(
        ((pl.col("matched") + config.click_weight * pl.col("clicks")
          + config.session_weight * pl.col("sessions").fill_null(0)) * decay).sum().alias("demand")
    )
    frame = frame.join(demand, left_on="id", right_on="artifact", how="left").with_columns(
        pl.col("demand").fill_null(0.0)
    )
    signal_parts = [(_log_share(s) * SIGNAL_WEIGHTS[s]).alias(f"_s_{s}") for s in SIGNALS]
    frame = frame.with_columns(signal_parts)
    num = pl.sum_horizontal([pl.col(f"_s_{s}").fill_null(0.0) for s in SIGNALS])
    den = pl.sum_horizontal([pl.col(f"_s_{s}").is_not_null().cast(pl.Float64) * SIGNAL_WEIGHTS[s]
                             for s in SIGNALS])
    frame = frame.with_columns(
        pl.when(den > 0).then(num / den).otherwise(None).alias("signal_share"),
        _log_share("demand").alias("demand_share"),
    )
    demand_w = 0.6 if has_logs else 0.0
    signal_w = pl.when(pl.col("signal_share").is_not_null()).then(0.4).otherwise(0.0)
    adoption = (
        pl.when((signal_w + demand_w) > 0)
        .then(100.0 * (demand_w * pl.col("demand_share") + signal_w * pl.col("signal_share").fill_null(0.0))
              / (signal_w + demand_w))
        .otherwise(0.0)
    )
    frame = frame.with_columns(adoption.alias("adoption")).drop([f"_s_{s}" for s in SIGNALS])

    # quality: Bradley-Terry with position terms
    ratings = fit_ratings(store.table(Table.PREFERRED_OVER), config)
    rated = pl.DataFrame(
        {"id": ratings.ids, "quality_rating": ratings.theta, "quality_lo": ratings.lo,
         "quality_hi": ratings.hi, "comparisons": ratings.comparisons},
        schema={"id": pl.String, "quality_rating": pl.Float64, "quality_lo": pl.Float64,
                "quality_hi": pl.Float64, "comparisons": pl.Int64},
    )
    half = 1.96 * config.prior_sd
    frame = frame.join(rated, on="id", how="left").with_columns(
        pl.col("quality_rating").fill_null(0.0),
        pl.col("quality_lo").fill_null(-half),
        pl.col("quality_hi").fill_null(half),
        pl.col("comparisons").fill_null(0),
    )
    frame = frame.with_columns((100.0 * _sigmoid(pl.col("quality_rating"))).alias("quality"),
                               (pl.col("comparisons") < config.min_comparisons).alias("low_confidence"))

    # match graph: weighted PageRank over co-matches and intent -> artifact edges
    frame = frame.join(_match_graph(store, frame.get_column("id"), config), on="id", how="left")
    top_lr = pl.col("_lr").max().over("type")
    frame = frame.with_columns(
        pl.when(top_lr > 0).then(100.0 * pl.col("_lr") / top_lr).otherwise(0.0).alias("match_graph")
    ).drop("_lr")

    # ecosystem
    frame = frame.with_columns((pl.col("provider_family") - 1).clip(lower_bound=0).alias("provider_peers"))
    frame = frame.with_columns(
        (100.0 * pl.sum_horizontal([_log_share(c) * w for c, w in ECOSYSTEM_PARTS.items()])).alias("ecosystem")
    )

    # freshness
    release_part = 2.0 ** (-(pl.lit(as_of) - pl.col("released")).dt.total_days().clip(lower_bound=0)
                           / config.release_half_life_days)
    match_part = 2.0 ** (-(pl.lit(as_of) - pl.col("last_matched")).dt.total_days().clip(lower_bound=0)
                         / config.half_life_days)
    frame = frame.with_columns(release_part.alias("_fr"), match_part.alias("_fm"))
    parts = pl.sum_horizontal(pl.col("_fr").fill_null(0.0), pl.col("_fm").fill_null(0.0))
    count = pl.sum_horizontal(pl.col("_fr").is_not_null().cast(pl.Float64), pl.col("_fm").is_not_null()
                              .cast(pl.Float64))
    frame = frame.with_columns(pl.when(count > 0).then(100.0 * parts / count).otherwise(0.0).alias("freshness"))

    # composite rank with quality shrunk toward its type's mean
    type_mean = (
        pl.when(pl.col("comparisons") > 0).then(pl.col("quality")).otherwise(None).mean().over("type")
    ).fill_null(50.0)
    m = pl.col("comparisons").cast(pl.Float64)
    frame = frame.with_columns(
        ((m * pl.col("quality") + config.shrink_k * type_mean) / (m + config.shrink_k)).alias("quality_shrunk")
    )
    weights = _weights_frame(frame.get_column("type"), config)
    frame = frame.with_columns(pl.col("type").fill_null("").alias("_wtype")).join(
        weights, left_on="_wtype", right_on="type", how="left"
    ).drop("_wtype")
    total = pl.sum_horizontal([pl.col(f"w_{k}") for k in SUBSCORES])
    value = pl.sum_horizontal(
        [pl.col(f"w_{k}") * pl.col("quality_shrunk" if k == "quality" else k) for k in SUBSCORES]
    )
    frame = frame.with_columns((value / total).round(6).alias("composite"))
    frame = frame.with_columns(pl.col("composite").round(0).cast(pl.Int64).clip(0, 100).alias("rank"))
    for k in SUBSCORES:
        frame = frame.with_columns(pl.col(k).round(6).clip(0.0, 100.0))
    evidence = pl.struct(
        pl.lit(as_of.isoformat()).alias("as_of"),
        pl.col("demand").round(6),
        pl.col("times_matched"),
        pl.col("clicks"),
        pl.col("signal_share").round(6),
        pl.col("demand_share").round(6),
        pl.col("quality_shrunk").round(6),
        pl.col("pagerank").round(12),
        pl.col("derived_works"),
        pl.col("integrations"),
        pl.col("provider_peers"),
        pl.col("capability_peers"),
        pl.col("released").cast(pl.String),
        pl.col("last_matched").cast(pl.String),
        pl.struct([pl.col(f"w_{k}").alias(k) for k in SUBSCORES]).alias("weights"),
    ).struct.json_encode()
    return conform(Table.SCORES, frame.with_columns(evidence.alias("evidence")))


def _weights_frame(types: pl.Series, config: ScoringConfig) -> pl.DataFrame:
    rows = []
    for type_name in sorted(set(types.fill_null("").to_list())):
        row = config.weights.get(type_name, config.weights["default"])
        rows.append({"type": type_name, **{f"w_{k}": row[k] for k in SUBSCORES}})
    schema = {"type": pl.String, **{f"w_{k}": pl.Float64 for k in SUBSCORES}}
    return pl.DataFrame(rows, schema=schema)


def _match_graph(store: GraphStore, artifact_ids: pl.Series, config: ScoringConfig) -> pl.DataFrame:
    co = store.table(Table.CO_MATCHED).sort(["a", "b"])
    matched = store.table(Table.MATCHED).sort(["intent", "artifact"])
    intents = matched.get_column("intent").unique().sort()
    nodes = pl.concat([
        pl.DataFrame({"key": artifact_ids.sort()}).with_columns(pl.lit("a").alias("kind")),
        pl.DataFrame({"key": intents}).with_columns(pl.lit("i").alias("kind")),
    ]).with_row_index("idx")
    art_idx = nodes.filter(pl.col("kind") == "a").select(pl.col("key").alias("id"), "idx")
    int_idx = nodes.filter(pl.col("kind") == "i").select(pl.col("key").alias("intent"), "idx")
    co_idx = (co.join(art_idx.rename({"id": "a", "idx": "ia"}), on="a")
              .join(art_idx.rename({"id": "b", "idx": "ib"}), on="b"))
    m_idx = matched.join(int_idx, on="intent").join(art_idx.rename({"id": "artifact", "idx": "ia"}),
                                                       on="artifact")
    src = np.concatenate([co_idx["ia"].to_numpy(), co_idx["ib"].to_numpy(), m_idx["idx"].to_numpy()])
    dst = np.concatenate([co_idx["ib"].to_numpy(), co_idx["ia"].to_numpy(), m_idx["ia"].to_numpy()])
    weight = np.concatenate([co_idx["count"].to_numpy(), co_idx["count"].to_numpy(),
                             m_idx["count"].to_numpy()]).astype(np.float64)
    n = nodes.height
    keep = weight > 0
    ranks = pagerank(src[keep].astype(np.int64), dst[keep].astype(np.int64), weight[keep], n,
                     alpha=config.damping)
    scaled = ranks * n
    if n:
        isolated = np.setdiff1d(np.arange(n), np.concatenate([src[keep], dst[keep]]))
        base = float(scaled[isolated].min()) if isolated.size else float(scaled.min())
    else:
        base = 1.0
    out = art_idx.with_columns(pl.Series("pagerank", ranks[art_idx["idx"].to_numpy()] if n else [], dtype=pl.Float64))
    out = out.with_columns((pl.col("pagerank") * n / base).log().clip(lower_bound=0.0).alias("_lr"))
    return out.select("id", "pagerank", "_lr")


@dataclass
class ScoreReport:
    run: str
    artifacts: int
    as_of: date
    low_confidence: int

    def summary(self) -> str:
        return (f"scored {self.artifacts} artifact(s) as of {self.as_of.isoformat()} (run {self.run}); "
                f"{self.low_confidence} with too few comparisons for a confident quality")


def score(store: GraphStore, config: ScoringConfig) -> ScoreReport:
    """Compute every score and write them back to the store, with this run's ranks in the history."""
    scores = compute_scores(store, config)
    now = datetime.now(UTC)
    run = now.strftime("%Y%m%dT%H%M%S%fZ")
    history = scores.select(pl.lit(run).alias("run"), pl.lit(now).alias("scored_at"), "id", "rank")
    store.apply(GraphDelta().set(Table.SCORES, scores).set(Table.RANK_HISTORY, history))
    as_of = date.fromisoformat(json.loads(scores["evidence"][0])["as_of"]) if scores.height else _as_of(store, config)
    return ScoreReport(run, scores.height, as_of, int(scores.get_column("low_confidence").sum()))


def explain(row: dict[str, Any]) -> dict[str, Any]:
    """A score row as value, weight and contribution per sub-score, with the evidence behind it."""
    evidence = json.loads(row["evidence"]) if row.get("evidence") else {}
    weights = evidence.get("weights", {})
    total = sum(weights.values()) or 1.0
    parts = {}
    for k in SUBSCORES:
        used = evidence.get("quality_shrunk", row[k]) if k == "quality" else row[k]
        parts[k] = {"value": row[k], "used": used, "weight": weights.get(k, 0.0),
                    "contribution": round(weights.get(k, 0.0) * used / total, 4)}
    return {"rank": row["rank"], "parts": parts, "evidence": evidence}
