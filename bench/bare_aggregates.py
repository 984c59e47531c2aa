"""The bare baseline of an ingest: the same aggregates from the same files, in polars alone.

Run: ``python -m bench.bare_aggregates --out DIR FILE...``. It reads native JSON-lines search logs
with ``polars.read_ndjson`` (no validation, no rejects, no ledger, no store), normalizes intents,
ids and timestamps the way matchgraph does, and computes the tables matchgraph's aggregation
produces (intents, matched, daily with distinct sessions, co-matches in the top 10, preference
cells overall and per intent, per-artifact totals), then writes them as Parquet. It prints the row
count of each table, so a benchmark can check both sides did the same work.

By default all files are read into one frame and grouped once. With ``--per-file`` each file is
aggregated alone and its tables are added to a running total (keys grouped, counts summed) before
the next file is read, which is what a bare script does once the whole log no longer fits in
memory (the one-shot script held 13.5 GiB at 1M searches). Every table comes out the same, except
that distinct sessions per (artifact, day) are counted per file and summed, as matchgraph counts
them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from graph.schema import normalize_intent_expr

TOP_K = 10
SCHEMA = {"search_id": pl.String, "ts": pl.String, "query": pl.String, "results": pl.List(pl.String),
          "clicks": pl.List(pl.String), "session_id": pl.String}


def aggregates(paths: list[Path]) -> dict[str, pl.DataFrame]:
    raw = pl.concat([pl.read_ndjson(p, schema=SCHEMA) for p in paths])
    s = raw.with_row_index("sid").select(
        "sid",
        pl.coalesce("session_id", pl.lit("search:") + pl.col("search_id")).alias("session"),
        normalize_intent_expr("query").alias("intent"),
        pl.col("ts").str.to_datetime(time_zone="UTC").dt.date().alias("day"),
        pl.col("results").list.eval(pl.element().str.to_lowercase()).list.unique(maintain_order=True),
        pl.col("clicks").fill_null([]).list.eval(pl.element().str.to_lowercase()).list.unique(maintain_order=True),
    )
    shown = (s.select("sid", "session", "intent", "day", "results",
                      pl.int_ranges(1, pl.col("results").list.len() + 1).alias("pos"))
             .explode(["results", "pos"]).rename({"results": "artifact"}))
    clicked = s.select("sid", "intent", "day", pl.col("clicks").alias("artifact")).explode("artifact").drop_nulls()
    shown = shown.join(clicked.select("sid", "artifact", pl.lit(True).alias("chosen")), on=["sid", "artifact"],
                       how="left").with_columns(pl.col("chosen").fill_null(False))
    intents = s.group_by("intent").agg(pl.len().alias("searches"))
    matched = (shown.group_by("intent", "artifact").agg(pl.len().alias("count"), pl.col("pos").sum())
               .join(clicked.group_by("intent", "artifact").agg(pl.len().alias("clicks")), on=["intent", "artifact"],
                     how="full", coalesce=True))
    daily = (shown.group_by("artifact", "day").agg(pl.len().alias("matched"), pl.col("session").n_unique())
             .join(clicked.group_by("artifact", "day").agg(pl.len().alias("clicks")), on=["artifact", "day"],
                   how="full", coalesce=True))
    top = shown.filter(pl.col("pos") <= TOP_K).select("sid", "intent", "artifact", "pos", "chosen")
    pairs = top.join(top.select("sid", "artifact"), on="sid", suffix="_b")
    co = pairs.filter(pl.col("artifact") < pl.col("artifact_b")).group_by("artifact", "artifact_b").agg(
        pl.len().alias("count"))
    choices = top.filter("chosen").join(top.filter(~pl.col("chosen")).select("sid", "artifact", "pos"), on="sid",
                                        suffix="_l")
    cells = choices.group_by("artifact", "artifact_l", "pos", "pos_l").agg(pl.len().alias("count"))
    intent_cells = choices.group_by("intent", "artifact", "artifact_l", "pos", "pos_l").agg(pl.len().alias("count"))
    per_search = pl.concat([choices.select("sid", "artifact"), choices.select("sid", pl.col("artifact_l").alias(
        "artifact"))]).group_by("sid", "artifact").agg(pl.len().alias("n"))
    totals = (matched.group_by("artifact").agg(pl.col("count").sum(), pl.col("clicks").sum())
              .join(per_search.group_by("artifact").agg(pl.col("n").sum(), (pl.col("n") ** 2).sum().alias("sq")),
                    on="artifact", how="full", coalesce=True))
    return {"intents": intents, "matched": matched, "daily": daily, "co_matched": co, "preference_cells": cells,
            "intent_preference_cells": intent_cells, "totals": totals}


SUMMED = {"intents": ["searches"], "matched": ["count", "pos", "clicks"], "daily": ["matched", "session", "clicks"],
          "co_matched": ["count"], "preference_cells": ["count"], "intent_preference_cells": ["count"],
          "totals": ["count", "clicks", "n", "sq"]}
"""The counts of each table (its other columns are its keys); they add across files."""


def aggregates_per_file(paths: list[Path]) -> dict[str, pl.DataFrame]:
    """The tables of :func:`aggregates`, one file at a time, added to a running total."""
    total: dict[str, pl.DataFrame] = {}
    for path in paths:
        for name, frame in aggregates([path]).items():
            if name not in total:
                total[name] = frame
                continue
            keys = [c for c in frame.columns if c not in SUMMED[name]]
            both = pl.concat([total[name], frame.select(total[name].columns)], how="vertical_relaxed")
            total[name] = both.group_by(keys).agg(pl.col(SUMMED[name]).sum())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-file", action="store_true",
                        help="aggregate each file alone and add it to a running total (bounded memory)")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    tables = aggregates_per_file(args.files) if args.per_file else aggregates(args.files)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.write_parquet(args.out / f"{name}.parquet", compression="zstd")
    print(" ".join(f"{name}={frame.height}" for name, frame in tables.items()),
          f"seconds={time.perf_counter() - started:.2f}")


if __name__ == "__main__":
    main()
