"""The graph as columnar tables: one polars schema per node and edge kind, and ``GraphDelta``.

Both stores speak these tables. The embedded store keeps them as they are (and NetworkX views of
them where a traversal needs one); the Neo4j store turns each into nodes, relationships and their
properties. Aggregate tables (searches, matches, co-matches, preferences, daily demand) only ever
grow by addition, which is what makes ingestion incremental and order-independent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl

from graph.schema import SIGNALS


class Table(StrEnum):
    ARTIFACTS = "artifacts"
    PROVIDERS = "providers"
    CAPABILITIES = "capabilities"
    HAS_CAPABILITY = "has_capability"
    DERIVED_FROM = "derived_from"
    INTEGRATES_WITH = "integrates_with"
    INTENTS = "intents"
    MATCHED = "matched"
    CO_MATCHED = "co_matched"
    PREFERRED_OVER = "preferred_over"
    DAILY = "daily"
    SCORES = "scores"
    RANK_HISTORY = "rank_history"
    LEDGER = "ledger"
    RUNS = "runs"


Str = pl.String
I64 = pl.Int64
F64 = pl.Float64

SCHEMAS: dict[Table, dict[str, pl.DataType]] = {
    Table.ARTIFACTS: {
        "id": Str(),
        "name": Str(),
        "type": Str(),
        "provider": Str(),
        "pricing": Str(),
        "url": Str(),
        "description": Str(),
        "license": Str(),
        "released": pl.Date(),
        "catalogued": pl.Boolean(),
        **{name: F64() for name in SIGNALS},
        "price_input": F64(),
        "price_output": F64(),
    },
    Table.PROVIDERS: {"id": Str(), "name": Str()},
    Table.CAPABILITIES: {"id": Str(), "name": Str(), "tags": pl.List(Str())},
    Table.HAS_CAPABILITY: {
        "artifact": Str(),
        "capability": Str(),
        "description": Str(),
        "unique": Str(),
        "vs_alternatives": Str(),
        "position": I64(),
    },
    Table.DERIVED_FROM: {"src": Str(), "dst": Str()},
    Table.INTEGRATES_WITH: {"src": Str(), "dst": Str()},
    Table.INTENTS: {"id": Str(), "searches": I64(), "last_day": pl.Date()},
    Table.MATCHED: {"intent": Str(), "artifact": Str(), "count": I64(), "clicks": I64(), "position_sum": I64()},
    Table.CO_MATCHED: {"a": Str(), "b": Str(), "count": I64()},
    Table.PREFERRED_OVER: {
        "winner": Str(),
        "loser": Str(),
        "winner_pos": I64(),
        "loser_pos": I64(),
        "count": I64(),
    },
    Table.DAILY: {"artifact": Str(), "day": pl.Date(), "matched": I64(), "clicks": I64(), "sessions": I64()},
    Table.SCORES: {
        "id": Str(),
        "rank": I64(),
        "adoption": F64(),
        "quality": F64(),
        "ecosystem": F64(),
        "match_graph": F64(),
        "freshness": F64(),
        "quality_rating": F64(),
        "quality_lo": F64(),
        "quality_hi": F64(),
        "comparisons": I64(),
        "low_confidence": pl.Boolean(),
        "evidence": Str(),
    },
    Table.RANK_HISTORY: {"run": Str(), "scored_at": pl.Datetime("us", "UTC"), "id": Str(), "rank": I64()},
    Table.LEDGER: {
        "sha256": Str(),
        "source": Str(),
        "kind": Str(),
        "size": I64(),
        "rows": I64(),
        "ingested_at": pl.Datetime("us", "UTC"),
    },
    Table.RUNS: {
        "run": Str(),
        "started_at": pl.Datetime("us", "UTC"),
        "ended_at": pl.Datetime("us", "UTC"),
        "files": I64(),
        "skipped": I64(),
        "changed": I64(),
        "read": I64(),
        "ingested": I64(),
        "rejected": I64(),
        "duration_s": F64(),
        "rescored": pl.Boolean(),
        "rejects": Str(),
    },
}

KEYS: dict[Table, tuple[str, ...]] = {
    Table.ARTIFACTS: ("id",),
    Table.PROVIDERS: ("id",),
    Table.CAPABILITIES: ("id",),
    Table.HAS_CAPABILITY: ("artifact", "capability"),
    Table.DERIVED_FROM: ("src", "dst"),
    Table.INTEGRATES_WITH: ("src", "dst"),
    Table.INTENTS: ("id",),
    Table.MATCHED: ("intent", "artifact"),
    Table.CO_MATCHED: ("a", "b"),
    Table.PREFERRED_OVER: ("winner", "loser", "winner_pos", "loser_pos"),
    Table.DAILY: ("artifact", "day"),
    Table.SCORES: ("id",),
    Table.RANK_HISTORY: ("run", "id"),
    Table.LEDGER: ("sha256",),
    Table.RUNS: ("run",),
}

ADDITIVE: dict[Table, dict[str, str]] = {
    Table.INTENTS: {"searches": "sum", "last_day": "max"},
    Table.MATCHED: {"count": "sum", "clicks": "sum", "position_sum": "sum"},
    Table.CO_MATCHED: {"count": "sum"},
    Table.PREFERRED_OVER: {"count": "sum"},
    Table.DAILY: {"matched": "sum", "clicks": "sum", "sessions": "sum"},
}
"""Tables whose rows merge by combining their measures per key ("sum" or "max")."""

ARTIFACT_ENDPOINTS: dict[Table, tuple[str, ...]] = {
    Table.ARTIFACTS: ("id",),
    Table.SCORES: ("id",),
    Table.RANK_HISTORY: ("id",),
    Table.HAS_CAPABILITY: ("artifact",),
    Table.DERIVED_FROM: ("src", "dst"),
    Table.INTEGRATES_WITH: ("src", "dst"),
    Table.MATCHED: ("artifact",),
    Table.CO_MATCHED: ("a", "b"),
    Table.PREFERRED_OVER: ("winner", "loser"),
    Table.DAILY: ("artifact",),
}
"""For each table, the columns holding artifact ids: ``GraphStore.table(..., ids=)`` filters on them."""


def empty(table: Table) -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMAS[table])


def conform(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast ``frame`` to the table's schema, adding missing columns as nulls."""
    schema = SCHEMAS[table]
    if frame.width == 0:
        return empty(table)
    columns = [
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    ]
    return frame.select(columns)


def merge_additive(table: Table, old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Combine two frames of an additive table: measures add (or take the max) per key."""
    keys = list(KEYS[table])
    aggs = [getattr(pl.col(col), how)().alias(col) for col, how in ADDITIVE[table].items()]
    both = pl.concat([old, conform(table, new)], how="vertical")
    return both.group_by(keys, maintain_order=False).agg(aggs).sort(keys).select(list(SCHEMAS[table]))


@dataclass
class GraphDelta:
    """One atomic change to the graph: every table it carries is applied, or none is.

    Semantics per table: ``artifacts`` upsert, where a catalogued row's non-null fields overwrite and
    a stub row (``catalogued`` false) is only inserted where the id is new; ``has_capability`` replaces
    the whole capability list of each artifact it names; node tables upsert; link tables add missing
    links; additive tables add their measures; ``scores`` replaces the previous scores;
    ``rank_history``, ``ledger`` and ``runs`` append.
    """

    tables: dict[Table, pl.DataFrame] = field(default_factory=dict)

    def set(self, table: Table, frame: pl.DataFrame) -> GraphDelta:
        self.tables[table] = conform(table, frame)
        return self

    def get(self, table: Table) -> pl.DataFrame:
        return self.tables.get(table, empty(table))

    def row_counts(self) -> dict[str, int]:
        return {t.value: f.height for t, f in self.tables.items()}
