"""Finding artifacts by text: one ranking, computed here, over a corpus built once per graph version.

The corpus holds, per artifact, its id, name and description, the names and descriptions of its
capabilities, and the intents (normalized queries) that matched it. A query's terms are matched as
case-folded substrings; each field a term occurs in adds that field's weight, and an exact id or
name adds :data:`EXACT_BONUS`. Both stores read the same tables, so both rank alike.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from graph.schema import normalize_intent
from graph.tables import Table

if TYPE_CHECKING:
    from graph.store import Reader

FIELD_WEIGHTS = {"id_text": 4.0, "name": 4.0, "description": 1.0, "cap_text": 1.0, "intent_text": 2.0}
EXACT_BONUS = 10.0
HITS_SCHEMA = {"id": pl.String, "score": pl.Float64}


@dataclass(frozen=True)
class SearchIndex:
    """The search corpus of one graph version."""

    version: str
    docs: pl.DataFrame

    @classmethod
    def build(cls, reader: Reader) -> SearchIndex:
        artifacts = reader.table(Table.ARTIFACTS, columns=["id", "name", "description"])
        has_cap = reader.table(Table.HAS_CAPABILITY, columns=["artifact", "capability", "description"])
        names = reader.table(Table.CAPABILITIES, columns=["id", "name"])
        caps = (
            has_cap.join(names, left_on="capability", right_on="id", how="left")
            .group_by("artifact")
            .agg(pl.concat_str([pl.col("name"), pl.col("description")], separator=" ", ignore_nulls=True)
                 .str.join(" ").alias("cap_text"))
        )
        intents = (reader.table(Table.MATCHED, columns=["intent", "artifact"]).group_by("artifact")
                   .agg(pl.col("intent").sort().str.join(" ").alias("intent_text")))
        docs = (
            artifacts.join(caps, left_on="id", right_on="artifact", how="left")
            .join(intents, left_on="id", right_on="artifact", how="left")
            .with_columns([pl.col(c).fill_null("").str.to_lowercase()
                           for c in ("name", "description", "cap_text", "intent_text")]
                          + [pl.col("id").alias("id_text")])
            .sort("id")
        )
        return cls(reader.version, docs)

    def hits(self, text: str, limit: int) -> pl.DataFrame:
        """The best ``limit`` artifacts for ``text``: ``id``, ``score`` (> 0), best first, ties by id."""
        folded = normalize_intent(text)
        terms = [t for t in folded.split() if t]
        if not terms or limit < 1:
            return pl.DataFrame(schema=HITS_SCHEMA)
        score = pl.lit(0.0)
        for term in terms:
            for column, weight in FIELD_WEIGHTS.items():
                score = score + pl.col(column).str.contains(term, literal=True).cast(pl.Float64) * weight
        exact = (pl.col("name") == folded) | (pl.col("id") == folded)
        return (
            self.docs.with_columns((score + exact.cast(pl.Float64) * EXACT_BONUS).alias("score"))
            .filter(pl.col("score") > 0)
            .sort(["score", "id"], descending=[True, False])
            .head(limit)
            .select("id", "score")
        )


class IndexCache:
    """Search indexes by graph version, built once each (the newest ``keep`` are kept)."""

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._indexes: OrderedDict[str, SearchIndex] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}

    def get(self, reader: Reader) -> SearchIndex:
        version = reader.version
        with self._lock:
            found = self._indexes.get(version)
            if found is not None:
                return found
            gate = self._building.setdefault(version, threading.Lock())
        with gate:  # one build per version; others wait for it
            with self._lock:
                found = self._indexes.get(version)
            if found is None:
                found = SearchIndex.build(reader)
                with self._lock:
                    self._indexes[version] = found
                    while len(self._indexes) > self.keep:
                        self._indexes.popitem(last=False)
                    self._building.pop(version, None)
            return found
