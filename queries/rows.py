"""An artifact's row: its catalog fields, scores, match totals and capability count, joined.

Every answer about artifacts starts from rows like these. :func:`joined_rows` makes them from the
store's tables; a :class:`RowIndex` holds every artifact's row of one graph version, sorted by id,
with the position of each id, so a long-lived server answers "the rows of these ids" by reading
those rows instead of four indexed reads and four joins per question. The two give the same rows (the contract
tests compare answers made both ways on both stores).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from graph.tables import Table, tuples
from queries.subscores import NAMES, OPEN_SCORE_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from graph.store import Reader

SCORE_COLUMNS = ["rank", *NAMES, "quality_rating", "quality_lo", "quality_hi", "comparisons", "low_confidence",
                 "evidence", *OPEN_SCORE_COLUMNS]
ROW_TABLES = (Table.ARTIFACTS, Table.SCORES, Table.TOTALS, Table.HAS_CAPABILITY)
"""What an artifact's row is made of, read together (one round trip on Neo4j)."""


def joined_rows(frames: dict[Table, pl.DataFrame]) -> pl.DataFrame:
    """One row per artifact: its fields, scores, match totals and capability count."""
    arts = frames[Table.ARTIFACTS]
    scores = frames[Table.SCORES]
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    scores = scores.with_columns(pl.lit(None, pl.Float64).alias(c) for c in missing).select("id", *SCORE_COLUMNS)
    matched = frames[Table.TOTALS].select("artifact", pl.col("matched").alias("times_matched"), "clicks")
    caps = frames[Table.HAS_CAPABILITY].group_by("artifact").agg(pl.len().alias("capabilities_count"))
    return (
        arts.join(scores, on="id", how="left")
        .join(matched, left_on="id", right_on="artifact", how="left")
        .join(caps, left_on="id", right_on="artifact", how="left")
        .with_columns(pl.col("times_matched").fill_null(0), pl.col("clicks").fill_null(0),
                      pl.col("capabilities_count").fill_null(0).cast(pl.Int64))
    )


def read_rows(reader: Reader) -> pl.DataFrame:
    """Every artifact's row, sorted by id."""
    return joined_rows({t: reader.table(t) for t in ROW_TABLES}).sort("id")


class RowIndex:
    """Every artifact's row of one graph version (``docs``, sorted by id) and where each id is."""

    def __init__(self, docs: pl.DataFrame) -> None:
        self.docs = docs.rechunk()  # a row read from one chunk per column is the cheap kind
        ids = self.docs.get_column("id").to_list()
        self._at = dict(zip(ids, range(len(ids)), strict=True))
        self._brief = list(tuples(self.docs, "type", "times_matched", "rank"))

    @classmethod
    def build(cls, reader: Reader) -> RowIndex:
        return cls(read_rows(reader))

    def brief(self, ids: Sequence[str]) -> dict[str, tuple[str | None, int, int | None]]:
        """Type, times matched and rank of each of ``ids`` it holds (what orderings need, without
        a polars step: a list of partners is short)."""
        at, brief = self._at, self._brief
        return {i: brief[at[i]] for i in ids if i in at}

    def dicts(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The row of each of ``ids`` it holds, as a dict (one row at a time: no gather)."""
        at, docs = self._at, self.docs
        return {i: docs.row(at[i], named=True) for i in dict.fromkeys(ids) if i in at}

