"""Per-artifact aggregates of the graph, computed once from the store's tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from graph.tables import Table

if TYPE_CHECKING:
    from graph.store import Reader

STATS_COLUMNS = (
    "id",
    "times_matched",
    "clicks",
    "intents",
    "co_matched_degree",
    "co_matched_weight",
    "derived_works",
    "integrations",
    "capabilities",
    "provider_family",
    "capability_peers",
    "wins",
    "losses",
    "last_matched",
)
"""``capability_peers`` sums, over the artifact's capabilities, how many *other* artifacts that appear
in the match graph (have a co-match) share that capability: reach through shared capabilities.
``provider_family`` counts the artifacts of its provider, itself included (1 without a provider)."""


def _undirected(links: pl.DataFrame, a: str, b: str, *measures: str) -> pl.DataFrame:
    """Each row of an undirected link table once from each end, as ``id, other, measures``."""
    return pl.concat([links.select(pl.col(a).alias("id"), pl.col(b).alias("other"), *measures),
                      links.select(pl.col(b).alias("id"), pl.col(a).alias("other"), *measures)])


def artifact_stats(reader: Reader) -> pl.DataFrame:
    """One row per artifact with the aggregates of :data:`STATS_COLUMNS`."""
    artifacts = reader.table(Table.ARTIFACTS, columns=["id", "provider"])
    matched = reader.table(Table.MATCHED, columns=["artifact", "count", "clicks"]).group_by("artifact").agg(
        pl.col("count").sum().alias("times_matched"), pl.col("clicks").sum().alias("clicks"),
        pl.len().alias("intents"),
    )
    co_both = _undirected(reader.table(Table.CO_MATCHED), "a", "b", "count").group_by("id").agg(
        pl.len().alias("co_matched_degree"), pl.col("count").sum().alias("co_matched_weight"))
    derived = reader.table(Table.DERIVED_FROM).group_by("dst").agg(pl.len().alias("derived_works"))
    integrations = (_undirected(reader.table(Table.INTEGRATES_WITH), "src", "dst").unique()
                    .group_by("id").agg(pl.len().alias("integrations")))
    has_cap = reader.table(Table.HAS_CAPABILITY, columns=["artifact", "capability"])
    caps = has_cap.group_by("artifact").agg(pl.len().alias("capabilities"))
    connected = co_both.select("id", pl.lit(1).alias("connected"))
    # two statements of one artifact may name one (shared) capability: reach counts it once
    flagged = has_cap.unique().join(connected, left_on="artifact", right_on="id", how="left").with_columns(
        pl.col("connected").fill_null(0))
    per_capability = flagged.group_by("capability").agg(pl.col("connected").sum().alias("n_connected"))
    peers = (flagged.join(per_capability, on="capability").group_by("artifact")
             .agg((pl.col("n_connected") - pl.col("connected")).sum().alias("capability_peers")))
    family = (artifacts.filter(pl.col("provider").is_not_null()).group_by("provider")
              .agg(pl.len().alias("provider_family")))
    prefs = reader.table(Table.PREFERRED_OVER, columns=["winner", "loser", "count"])
    wins = prefs.group_by("winner").agg(pl.col("count").sum().alias("wins"))
    losses = prefs.group_by("loser").agg(pl.col("count").sum().alias("losses"))
    last = reader.table(Table.DAILY, columns=["artifact", "day"]).group_by("artifact").agg(
        pl.col("day").max().alias("last_matched"))
    out = (
        artifacts.join(matched, left_on="id", right_on="artifact", how="left")
        .join(co_both, on="id", how="left")
        .join(derived, left_on="id", right_on="dst", how="left")
        .join(integrations, on="id", how="left")
        .join(caps, left_on="id", right_on="artifact", how="left")
        .join(peers, left_on="id", right_on="artifact", how="left")
        .join(family, on="provider", how="left")
        .join(wins, left_on="id", right_on="winner", how="left")
        .join(losses, left_on="id", right_on="loser", how="left")
        .join(last, left_on="id", right_on="artifact", how="left")
    )
    counts = [c for c in out.columns if c not in ("id", "provider", "last_matched")]
    return (
        out.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in counts])
        .with_columns(pl.col("provider_family").clip(lower_bound=1))
        .select(list(STATS_COLUMNS))
        .sort("id")
    )
