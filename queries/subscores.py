"""The sub-scores: one registry from which every list of them is derived.

Each :class:`SubScore` carries its name (the column and property it is stored under), the label
people read, its default weight in the composite rank, the function that computes it, what it
rests on and how it is explained. Tables, response models, page rows, labels, the CLI's columns
and the Neo4j property lists all come from :data:`REGISTRY`: adding a sub-score means adding an
entry here and its compute function, nothing else.

A compute function receives the :class:`Inputs` of one scoring run (a frame with one row per
artifact, its aggregates, and the other tables it may need) and returns a frame with ``id``, the
sub-score's value (0-100) and those of its evidence columns that the frame does not hold already.

No evidence, no number: a sub-score is null where nothing it rests on is known (no search logs at
all and no catalog signal for adoption; no comparison and no benchmark result for quality; no
lineage, integration, provider peer or capability reach for ecosystem; no logs for match graph; no
release date and no match for freshness). Where search logs exist, an artifact they never name is
known to have no demand, which is evidence; where there are none, nothing is known. The rank is
the weighted mean of the sub-scores that have evidence, and says what share of the weight that is
(:data:`MIN_EVIDENCE_SHARE`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from graph.schema import SIGNALS
from graph.tables import Table

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from graph.store import Reader
    from queries.rating import RatingResult
    from queries.scoring import ScoringConfig


@dataclass(frozen=True)
class Constants:
    """The fixed parts of each formula, named once (the README's "How ranks are computed")."""

    click_weight: float = 3.0
    session_weight: float = 2.0
    demand_share: float = 0.6
    signal_share: float = 0.4
    release_half_life_days: float = 365.0


MIN_EVIDENCE_SHARE = 0.5
"""Below this share of the rank's weight resting on evidence, an artifact is not ranked: pages say
how little is known instead of showing a number made mostly of absences."""

OPEN_SCORE_COLUMNS = ("evidence_share", "composite", "composite_lo", "composite_hi", "position", "rank_lo",
                      "rank_hi", "type_ranked", "rank_delta")
"""The scores table's columns besides the sub-scores that lists need (all ``Float64``, null where
they do not apply): how much of the rank rests on evidence, the composite and its interval, the
place within type and its range, and the change of rank since the run before."""

SIGNAL_WEIGHTS = {"downloads": 1.0, "stars": 1.0, "likes": 1.0, "dependents": 1.0, "forks": 0.5,
                  "contributors": 0.5}
ECOSYSTEM_PARTS = {"derived_works": 0.35, "integrations": 0.30, "provider_peers": 0.15,
                   "capability_peers": 0.20}


@dataclass
class Inputs:
    """What one scoring run knows: the artifacts with their aggregates, and a pinned reader."""

    reader: Reader
    frame: pl.DataFrame
    """One row per artifact: id, type, released, signals, and ``queries.stats.STATS_COLUMNS``."""
    as_of: date
    config: ScoringConfig
    ratings: RatingResult
    constants: Constants
    has_logs: bool = False
    """Whether any search was ever ingested: then an artifact the logs never name has no demand."""


@dataclass(frozen=True)
class SubScore:
    name: str
    label: str
    weight: float
    """Default weight in the composite rank (``weights.toml`` may override it per type)."""
    compute: Callable[[Inputs], pl.DataFrame]
    summary: str
    """How it is computed, in one sentence, for explanations and the API's descriptions."""
    evidence: tuple[str, ...] = ()
    """Evidence columns ``compute`` returns besides the value, kept with the scores."""
    on_compare: bool = True
    """Shown as a row of the comparison table."""


def log_share(column: str) -> pl.Expr:
    """``log1p(x) / log1p(max x of the type)``, 0 where the type's max is 0, null where x is null."""
    top = pl.col(column).max().over("type")
    return (
        pl.when(pl.col(column).is_null()).then(None)
        .when(top > 0).then(pl.col(column).log1p() / top.log1p())
        .otherwise(0.0)
    )


def _decay(as_of: date, column: str, half_life: float) -> pl.Expr:
    return 2.0 ** (-(pl.lit(as_of) - pl.col(column)).dt.total_days().clip(lower_bound=0) / half_life)


def adoption(inputs: Inputs) -> pl.DataFrame:
    c = inputs.constants
    daily = inputs.reader.table(Table.DAILY)
    demand = daily.group_by("artifact").agg(
        ((pl.col("matched") + c.click_weight * pl.col("clicks") + c.session_weight * pl.col("sessions").fill_null(0))
         * _decay(inputs.as_of, "day", inputs.config.half_life_days)).sum().alias("demand")
    )
    frame = inputs.frame.select("id", "type", *SIGNALS).join(demand, left_on="id", right_on="artifact", how="left")
    frame = frame.with_columns(pl.col("demand").fill_null(0.0))
    frame = frame.with_columns([(log_share(s) * SIGNAL_WEIGHTS[s]).alias(f"_s_{s}") for s in SIGNALS])
    num = pl.sum_horizontal([pl.col(f"_s_{s}").fill_null(0.0) for s in SIGNALS])
    den = pl.sum_horizontal([pl.col(f"_s_{s}").is_not_null().cast(pl.Float64) * SIGNAL_WEIGHTS[s] for s in SIGNALS])
    frame = frame.with_columns(
        pl.when(den > 0).then(num / den).otherwise(None).alias("signal_share"),
        log_share("demand").alias("demand_share"),
    )
    demand_w = c.demand_share if inputs.has_logs else 0.0
    signal_w = pl.when(pl.col("signal_share").is_not_null()).then(c.signal_share).otherwise(0.0)
    value = (
        pl.when((signal_w + demand_w) > 0)
        .then(100.0 * (demand_w * pl.col("demand_share") + signal_w * pl.col("signal_share").fill_null(0.0))
              / (signal_w + demand_w))
        .otherwise(None)
    )
    return frame.select("id", value.alias("adoption"), "demand", "signal_share", "demand_share")


def benchmark_quality(benchmarks: pl.DataFrame, types: pl.DataFrame) -> pl.DataFrame:
    """Each artifact's benchmark results as percentiles within its type, and their mean (0-100).

    A benchmark's scale is its own (a percentage, a normalised score, an Elo), so each result is
    placed among the results of the same benchmark for artifacts of the same type: the mid-rank
    percentile, 100 for the best of ``n``, ``100 (n - r + 0.5) / n`` for the r-th. A benchmark
    that only one artifact of a type has says nothing there and is left out.
    """
    rows = benchmarks.join(types, left_on="artifact", right_on="id", how="inner").filter(pl.col("score").is_not_null())
    group = ["type", "benchmark"]
    rows = rows.with_columns(pl.len().over(group).alias("_n"),
                             pl.col("score").rank("average", descending=True).over(group).alias("_r"))
    rows = rows.filter(pl.col("_n") >= 2).with_columns(
        (100.0 * (pl.col("_n") - pl.col("_r") + 0.5) / pl.col("_n")).alias("percentile"))
    return rows.sort("artifact", "benchmark").group_by("artifact", maintain_order=True).agg(
        pl.col("percentile").mean().alias("quality_benchmarks"),
        pl.struct(pl.col("benchmark").alias("name"), pl.col("score").round_sig_figs(9),
                  pl.col("percentile").round(2), pl.col("_n").alias("of")).alias("benchmark_results"),
    )


def quality(inputs: Inputs) -> pl.DataFrame:
    """What people chose, where they chose enough; benchmark results where they did not.

    ``quality_choices`` is the rating as a 0-100 chance of being picked when looked at, with its
    interval in the same units. With ``m`` comparisons it weighs ``m / (m + k)``; the rest of the
    weight goes to the benchmark results (percentiles within type) where there are any, else to
    the type's mean choice quality. With no comparison the value is the benchmarks' alone, and with
    neither it is null.
    """
    r = inputs.ratings
    rated = pl.DataFrame(
        {"id": r.ids, "quality_rating": r.theta, "quality_lo": r.lo, "quality_hi": r.hi, "comparisons": r.comparisons,
         "quality_sd": r.sd if r.sd.size == len(r.ids) else [None] * len(r.ids)},
        schema={"id": pl.String, "quality_rating": pl.Float64, "quality_lo": pl.Float64, "quality_hi": pl.Float64,
                "comparisons": pl.Int64, "quality_sd": pl.Float64},
    )
    config = inputs.config
    types = inputs.frame.select("id", "type")
    bench = benchmark_quality(inputs.reader.table(Table.BENCHMARKS), types)
    frame = types.join(rated, on="id", how="left").join(bench, left_on="id", right_on="artifact", how="left")
    frame = frame.with_columns(pl.col("comparisons").fill_null(0))
    seen = pl.col("comparisons") > 0

    def chance(column: str) -> pl.Expr:
        return pl.when(seen).then(100.0 / (1.0 + (-pl.col(column)).exp())).otherwise(None)

    frame = frame.with_columns(chance("quality_rating").alias("quality_choices"),
                               chance("quality_lo").alias("quality_choices_lo"),
                               chance("quality_hi").alias("quality_choices_hi"))
    type_mean = pl.col("quality_choices").mean().over("type")
    m = pl.col("comparisons").cast(pl.Float64)
    k = config.shrink_k
    has_bench = pl.col("quality_benchmarks").is_not_null()
    anchor = pl.when(has_bench).then(pl.col("quality_benchmarks")).otherwise(type_mean.fill_null(50.0))
    value = (pl.when(seen).then((m * pl.col("quality_choices") + k * anchor) / (m + k))
             .when(has_bench).then(pl.col("quality_benchmarks")).otherwise(None))
    choice_w = pl.when(seen).then(m / (m + k)).otherwise(0.0)
    return frame.select(
        "id", value.alias("quality"), "quality_rating", "quality_lo", "quality_hi", "comparisons", "quality_sd",
        "quality_choices", "quality_choices_lo", "quality_choices_hi", "quality_benchmarks", "benchmark_results",
        choice_w.alias("choice_weight"),
        pl.when(has_bench).then(1.0 - choice_w).otherwise(0.0).alias("benchmark_weight"),
        pl.when(seen & ~has_bench).then(1.0 - choice_w).otherwise(0.0).alias("type_average_weight"),
        (pl.col("comparisons") < config.min_comparisons).alias("low_confidence"),
    )


def match_graph(inputs: Inputs) -> pl.DataFrame:
    """Weighted PageRank over co-matches (both ways) and intent -> artifact matches."""
    import numpy as np  # scoring only: reads that explain a score need neither numpy nor scipy

    from queries.graphrank import pagerank

    reader = inputs.reader
    ids = inputs.frame.get_column("id").sort()
    co = reader.table(Table.CO_MATCHED)
    matched = reader.table(Table.MATCHED, columns=["intent", "artifact", "count"])
    intents = matched.get_column("intent").unique().sort()
    nodes = pl.concat([pl.DataFrame({"key": ids, "kind": "a"}), pl.DataFrame({"key": intents, "kind": "i"})],
                      how="vertical").with_row_index("idx")
    art = nodes.filter(pl.col("kind") == "a").select(pl.col("key").alias("id"), "idx")
    intent_idx = nodes.filter(pl.col("kind") == "i").select(pl.col("key").alias("intent"), "idx")
    co_idx = (co.join(art.rename({"id": "a", "idx": "ia"}), on="a")
              .join(art.rename({"id": "b", "idx": "ib"}), on="b"))
    m_idx = matched.join(intent_idx, on="intent").join(art.rename({"id": "artifact", "idx": "ia"}), on="artifact")
    src = np.concatenate([co_idx["ia"].to_numpy(), co_idx["ib"].to_numpy(), m_idx["idx"].to_numpy()])
    dst = np.concatenate([co_idx["ib"].to_numpy(), co_idx["ia"].to_numpy(), m_idx["ia"].to_numpy()])
    weight = np.concatenate([co_idx["count"].to_numpy(), co_idx["count"].to_numpy(),
                             m_idx["count"].to_numpy()]).astype(np.float64)
    n = nodes.height
    keep = weight > 0
    ranks = pagerank(src[keep].astype(np.int64), dst[keep].astype(np.int64), weight[keep], n,
                     alpha=inputs.config.damping)
    if n:
        scaled = ranks * n
        linked = np.zeros(n, dtype=bool)  # a mask, not a set difference: that sorts the two million ends
        linked[src[keep]] = True
        linked[dst[keep]] = True
        isolated = np.flatnonzero(~linked)
        base = float(scaled[isolated].min()) if isolated.size else float(scaled.min())
    else:
        base = 1.0
    out = art.with_columns(pl.Series("pagerank", ranks[art["idx"].to_numpy()] if n else [], dtype=pl.Float64))
    out = out.with_columns((pl.col("pagerank") * n / base).log().clip(lower_bound=0.0).alias("_lr"))
    frame = inputs.frame.select("id", "type").join(out.select("id", "pagerank", "_lr"), on="id", how="left")
    top = pl.col("_lr").max().over("type")
    value = pl.when(top > 0).then(100.0 * pl.col("_lr") / top).otherwise(0.0)
    if co.height == 0 and matched.height == 0:  # no search ever ingested: the match graph knows no one
        value = pl.lit(None, pl.Float64)
    return frame.select("id", value.alias("match_graph"), "pagerank")


def ecosystem(inputs: Inputs) -> pl.DataFrame:
    frame = inputs.frame.with_columns((pl.col("provider_family") - 1).clip(lower_bound=0).alias("provider_peers"))
    value = 100.0 * pl.sum_horizontal([log_share(c) * w for c, w in ECOSYSTEM_PARTS.items()])
    known = pl.any_horizontal([pl.col(c) > 0 for c in ECOSYSTEM_PARTS])
    return frame.select("id", pl.when(known).then(value).otherwise(None).alias("ecosystem"), "provider_peers")


def freshness(inputs: Inputs) -> pl.DataFrame:
    c = inputs.constants
    release = _decay(inputs.as_of, "released", c.release_half_life_days)
    match = _decay(inputs.as_of, "last_matched", inputs.config.half_life_days)
    frame = inputs.frame.with_columns(release.alias("_fr"), match.alias("_fm"))
    parts = pl.sum_horizontal(pl.col("_fr").fill_null(0.0), pl.col("_fm").fill_null(0.0))
    count = pl.sum_horizontal(pl.col("_fr").is_not_null().cast(pl.Float64), pl.col("_fm").is_not_null()
                              .cast(pl.Float64))
    value = pl.when(count > 0).then(100.0 * parts / count).otherwise(None)
    return frame.select("id", value.alias("freshness"))


REGISTRY: tuple[SubScore, ...] = (
    SubScore("adoption", "Adoption", 25.0, adoption,
             "demand in the search logs (decayed matches, clicks and sessions) and the catalog's signals "
             "(downloads, stars, likes, ...), each log-scaled within type",
             evidence=("demand", "signal_share", "demand_share")),
    SubScore("quality", "Quality", 25.0, quality,
             "Bradley-Terry ratings with position terms fitted to which artifact people chose over which, "
             "as the chance that a person who looks at it picks it; where comparisons are few it leans on "
             "benchmark results (percentiles within type) or else on its type's mean",
             evidence=("quality_rating", "quality_lo", "quality_hi", "comparisons", "quality_sd", "quality_choices",
                       "quality_choices_lo", "quality_choices_hi", "quality_benchmarks", "benchmark_results",
                       "choice_weight", "benchmark_weight", "type_average_weight", "low_confidence")),
    SubScore("ecosystem", "Ecosystem", 15.0, ecosystem,
             "derived works, integrations, other artifacts of its provider and reach through shared "
             "capabilities, each log-scaled within type",
             evidence=("derived_works", "integrations", "provider_peers", "capability_peers")),
    SubScore("match_graph", "Match Graph", 25.0, match_graph,
             "weighted PageRank over co-matches and intent matches, log-scaled within type",
             evidence=("pagerank",)),
    SubScore("freshness", "Freshness", 10.0, freshness,
             "how recently it was released and last matched in a search", evidence=("released", "last_matched"),
             on_compare=False),
)
NAMES: tuple[str, ...] = tuple(s.name for s in REGISTRY)
BY_NAME: dict[str, SubScore] = {s.name: s for s in REGISTRY}
LABELS: dict[str, str] = {s.name: s.label for s in REGISTRY}
COMPARED: tuple[str, ...] = tuple(s.name for s in REGISTRY if s.on_compare)
DEFAULT_WEIGHTS: dict[str, float] = {s.name: s.weight for s in REGISTRY}


def explain(row: dict[str, Any]) -> dict[str, Any]:
    """A score row as value, weight and contribution per sub-score, with the evidence behind it.

    Only sub-scores with evidence count: their weights are shared out again, so the contributions
    add up to the rank; a sub-score without evidence shows its weight and contributes nothing.
    """
    evidence = json.loads(row["evidence"]) if row.get("evidence") else {}
    weights = evidence.get("weights", {})
    counted = sum(weights.get(sub.name, 0.0) for sub in REGISTRY if row.get(sub.name) is not None) or 1.0
    parts = {}
    for sub in REGISTRY:
        value = row.get(sub.name)
        weight = weights.get(sub.name, 0.0)
        parts[sub.name] = {"value": value, "used": value, "weight": weight, "evidence": value is not None,
                           "contribution": round(weight * value / counted, 4) if value is not None else 0.0}
    return {"rank": row["rank"], "parts": parts, "evidence": evidence}
