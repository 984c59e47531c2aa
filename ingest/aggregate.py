"""Turning validated searches into the graph's additive aggregates, all in polars.

For a frame of searches (``ingest.logs.SEARCH_SCHEMA``):

* ``intents``: searches per normalized query;
* ``matched``: per (intent, artifact), searches listing it, clicks on it, sum of its positions;
* ``daily``: per (artifact, day), searches listing it, clicks on it and the distinct sessions that
  listed it (a search without a session is a session of its own). Sessions are distinct within
  one aggregated block (``ingest.pipeline.SESSION_BLOCK`` lines of one file) and add across
  blocks, so a session whose searches fall in two blocks or files on the same day counts twice;
* ``co_matched``: per unordered pair in the top ``TOP_K`` of one search, the searches listing both;
* ``preferred_over``: per ordered pair (chosen, shown but not chosen), the number of searches where
  a person chose the first from the top ``TOP_K`` while the second was shown there too (the
  rank-breaking of a choice from a shown list), with the counts per pair of positions, so scoring
  can fit position bias;
* ``artifacts``: stub rows for every id seen, so nothing a log names is dropped.

Artifact ids are mapped to integer codes (in sorted order, so code order is id order) before the
pair self-joins, which keeps the joins narrow.
"""

from __future__ import annotations

import polars as pl

from graph.tables import ADDITIVE, GraphDelta, Table, conform, empty, merge_additive, preference_pairs

TOP_K = 10


def intent_expr(column: str = "query") -> pl.Expr:
    """The vectorized twin of :func:`graph.schema.normalize_intent`."""
    return (
        pl.col(column)
        .str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.slice(0, 256)
    )


def aggregate_searches(searches: pl.DataFrame) -> dict[Table, pl.DataFrame]:
    """The additive tables (plus stub artifacts) one frame of valid searches contributes."""
    if searches.height == 0:
        return {table: empty(table) for table in ADDITIVE} | {Table.ARTIFACTS: empty(Table.ARTIFACTS)}
    s = searches.with_row_index("sid").select(
        "sid",
        pl.coalesce(pl.col("session_id"), pl.lit("search:") + pl.col("search_id")).alias("session"),
        intent_expr().alias("intent"),
        pl.col("ts").dt.date().alias("day"),
        "results",
        "clicks",
    )
    shown = (
        s.select("sid", "session", "intent", "day", "results",
                 pl.int_ranges(1, pl.col("results").list.len() + 1).alias("pos"))
        .explode(["results", "pos"])
        .rename({"results": "artifact"})
    )
    clicked = s.select("sid", "intent", "day", "clicks").explode("clicks").rename({"clicks": "artifact"}).drop_nulls(
        "artifact"
    )
    shown = shown.join(clicked.select("sid", "artifact", pl.lit(True).alias("chosen")), on=["sid", "artifact"],
                       how="left").with_columns(pl.col("chosen").fill_null(False))

    ids = pl.concat([shown.select("artifact"), clicked.select("artifact")]).unique().sort("artifact")
    ids = ids.with_row_index("code")

    intents = s.group_by("intent").agg(pl.len().alias("searches")).rename({"intent": "id"})
    match_counts = shown.group_by("intent", "artifact").agg(
        pl.len().alias("count"), pl.col("pos").sum().alias("position_sum")
    )
    click_counts = clicked.group_by("intent", "artifact").agg(pl.len().alias("clicks"))
    matched = match_counts.join(click_counts, on=["intent", "artifact"], how="full", coalesce=True).with_columns(
        pl.col("count").fill_null(0), pl.col("clicks").fill_null(0), pl.col("position_sum").fill_null(0)
    )
    daily = (
        shown.group_by("artifact", "day").agg(pl.len().alias("matched"), pl.col("session").n_unique().alias("sessions"))
        .join(clicked.group_by("artifact", "day").agg(pl.len().alias("clicks")), on=["artifact", "day"], how="full",
              coalesce=True)
        .with_columns(pl.col("matched").fill_null(0), pl.col("clicks").fill_null(0), pl.col("sessions").fill_null(0))
    )

    top = shown.filter(pl.col("pos") <= TOP_K).join(ids, on="artifact").select("sid", "code", "pos", "chosen")
    pairs = top.join(top, on="sid", suffix="_b").filter(pl.col("code") < pl.col("code_b"))
    co_matched = pairs.group_by("code", "code_b").agg(pl.len().alias("count"))
    co_matched = _decode(co_matched, ids, {"code": "a", "code_b": "b"})

    winners = top.filter(pl.col("chosen"))
    losers = top.filter(~pl.col("chosen"))
    prefs = (
        winners.join(losers, on="sid", suffix="_l")
        .group_by("code", "code_l", "pos", "pos_l")
        .agg(pl.len().alias("count"))
        .rename({"pos": "winner_pos", "pos_l": "loser_pos"})
    )
    prefs = preference_pairs(_decode(prefs, ids, {"code": "winner", "code_l": "loser"}))

    stubs = ids.select(pl.col("artifact").alias("id"), pl.col("artifact").alias("name"),
                       pl.lit(False).alias("catalogued"))
    return {
        Table.INTENTS: conform(Table.INTENTS, intents),
        Table.MATCHED: conform(Table.MATCHED, matched),
        Table.DAILY: conform(Table.DAILY, daily),
        Table.CO_MATCHED: conform(Table.CO_MATCHED, co_matched),
        Table.PREFERRED_OVER: conform(Table.PREFERRED_OVER, prefs),
        Table.ARTIFACTS: conform(Table.ARTIFACTS, stubs),
    }


def _decode(frame: pl.DataFrame, ids: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
    for code_col, name in columns.items():
        lookup = ids.select(pl.col("code").alias(code_col), pl.col("artifact").alias(name))
        frame = frame.join(lookup, on=code_col).drop(code_col)
    return frame


class Accumulator:
    """Sums the aggregates of many chunks into one delta (counts add, so order never matters)."""

    def __init__(self) -> None:
        self.parts: dict[Table, pl.DataFrame] = {}
        self.searches = 0

    def add(self, searches: pl.DataFrame) -> None:
        self.searches += searches.height
        for table, frame in aggregate_searches(searches).items():
            if table is Table.ARTIFACTS:
                old = self.parts.get(table, empty(table))
                self.parts[table] = pl.concat([old, frame]).unique("id", keep="first")
            elif table in self.parts:
                self.parts[table] = merge_additive(table, self.parts[table], frame)
            else:
                self.parts[table] = frame

    def delta(self) -> GraphDelta:
        delta = GraphDelta()
        for table, frame in self.parts.items():
            delta.set(table, frame)
        return delta
