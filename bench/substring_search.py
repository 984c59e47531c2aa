"""The search matchgraph had before issue 13, kept as the baseline the relevance benchmark measures
against: case-folded substring matches of the query's words in an artifact's id, name,
description, capability names and descriptions and matching intents, weighted per field."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from graph.schema import normalize_intent
from graph.tables import Table

if TYPE_CHECKING:
    from graph.store import Reader

FIELD_WEIGHTS = {"id_text": 4.0, "name": 4.0, "description": 1.0, "cap_text": 1.0, "intent_text": 2.0}
EXACT_BONUS = 10.0


class SubstringIndex:
    def __init__(self, reader: Reader) -> None:
        artifacts = reader.table(Table.ARTIFACTS, columns=["id", "name", "description"])
        has_cap = reader.table(Table.HAS_CAPABILITY, columns=["artifact", "capability", "description", "name"])
        caps = has_cap.group_by("artifact").agg(
            pl.concat_str([pl.col("name"), pl.col("description")], separator=" ", ignore_nulls=True)
            .str.join(" ").alias("cap_text"))
        intents = (reader.table(Table.MATCHED, columns=["intent", "artifact"]).group_by("artifact")
                   .agg(pl.col("intent").sort().str.join(" ").alias("intent_text")))
        ranks = reader.table(Table.SCORES, columns=["id", "rank"])
        self.docs = (
            artifacts.join(caps, left_on="id", right_on="artifact", how="left")
            .join(intents, left_on="id", right_on="artifact", how="left")
            .join(ranks, on="id", how="left")
            .with_columns([pl.col(c).fill_null("").str.to_lowercase()
                           for c in ("name", "description", "cap_text", "intent_text")]
                          + [pl.col("id").alias("id_text")])
            .sort("id")
        )

    def search(self, text: str, limit: int) -> list[str]:
        """Relevance first, then rank, then id (as the engine ordered these hits)."""
        folded = normalize_intent(text)
        terms = [t for t in folded.split() if t]
        score = pl.lit(0.0)
        for term in terms:
            for column, weight in FIELD_WEIGHTS.items():
                score = score + pl.col(column).str.contains(term, literal=True).cast(pl.Float64) * weight
        exact = (pl.col("name") == folded) | (pl.col("id") == folded)
        return (self.docs.with_columns((score + exact.cast(pl.Float64) * EXACT_BONUS).alias("score"))
                .filter(pl.col("score") > 0)
                .sort(["score", "rank", "id"], descending=[True, True, False], nulls_last=True)
                .head(limit).get_column("id").to_list())
