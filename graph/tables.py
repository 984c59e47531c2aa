"""The graph as columnar tables: one polars schema per node and edge kind, and ``GraphDelta``.

Both stores speak these tables. The embedded store keeps them as they are (and NetworkX views of
them where a traversal needs one); the Neo4j store turns each into nodes, relationships and their
properties. Aggregate tables (searches, matches, co-matches, preferences, daily demand) only ever
grow by addition, which is what makes ingestion incremental and order-independent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from graph.schema import SIGNALS

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence


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
    INTENT_PREFERENCES = "intent_preferences"
    SEEKS = "seeks"
    BOARDS = "boards"
    TOTALS = "totals"
    DAILY = "daily"
    BENCHMARKS = "benchmarks"
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
    Table.CAPABILITIES: {
        "id": Str(),
        "name": Str(),
        "tags": pl.List(Str()),
        "aliases": pl.List(Str()),
        "statements": I64(),
        "artifacts": I64(),
    },
    Table.HAS_CAPABILITY: {
        "artifact": Str(),
        "capability": Str(),
        "description": Str(),
        "unique": Str(),
        "vs_alternatives": Str(),
        "position": I64(),
        "name": Str(),
    },
    Table.DERIVED_FROM: {"src": Str(), "dst": Str()},
    Table.INTEGRATES_WITH: {"src": Str(), "dst": Str()},
    Table.INTENTS: {"id": Str(), "searches": I64()},
    Table.MATCHED: {"intent": Str(), "artifact": Str(), "count": I64(), "clicks": I64(), "position_sum": I64()},
    Table.CO_MATCHED: {"a": Str(), "b": Str(), "count": I64()},
    Table.PREFERRED_OVER: {
        "winner": Str(),
        "loser": Str(),
        "count": I64(),
        "winner_pos": pl.List(I64()),
        "loser_pos": pl.List(I64()),
        "counts": pl.List(I64()),
    },
    Table.INTENT_PREFERENCES: {
        "intent": Str(),
        "winner": Str(),
        "loser": Str(),
        "winner_pos": I64(),
        "loser_pos": I64(),
        "count": I64(),
    },
    Table.SEEKS: {
        "intent": Str(),
        "capability": Str(),
        "confidence": F64(),
        "similarity": F64(),
        "chosen": I64(),
        "clicks": I64(),
    },
    Table.BOARDS: {
        "kind": Str(),
        "need": Str(),
        "artifact": Str(),
        "place": I64(),
        "rating": F64(),
        "lo": F64(),
        "hi": F64(),
        "comparisons": I64(),
        "overall": F64(),
    },
    Table.TOTALS: {"artifact": Str(), "matched": I64(), "clicks": I64(), "pairs": I64(), "pairs_sq": I64()},
    Table.DAILY: {"artifact": Str(), "day": pl.Date(), "matched": I64(), "clicks": I64(), "sessions": I64()},
    Table.BENCHMARKS: {"artifact": Str(), "benchmark": Str(), "score": F64()},
    Table.SCORES: {
        "id": Str(),
        "rank": I64(),
        "quality_rating": F64(),
        "quality_lo": F64(),
        "quality_hi": F64(),
        "comparisons": I64(),
        "low_confidence": pl.Boolean(),
        "evidence": Str(),
    },
    Table.RANK_HISTORY: {"run": Str(), "scored_at": pl.Datetime("us", "UTC"), "id": Str(), "rank": I64(),
                         "as_of": pl.Date()},
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
        "failed": I64(),
    },
}

OPEN_COLUMNS: dict[Table, pl.DataType] = {Table.SCORES: F64()}
"""Tables that hold further columns of one type besides their fixed schema: the scores table holds
one ``Float64`` column per sub-score, named by ``queries.subscores.REGISTRY``, so a new sub-score
needs no change here."""
COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
"""What an open column may be called: its name becomes a Parquet column and a Neo4j property."""

KEYS: dict[Table, tuple[str, ...]] = {
    Table.ARTIFACTS: ("id",),
    Table.PROVIDERS: ("id",),
    Table.CAPABILITIES: ("id",),
    Table.HAS_CAPABILITY: ("artifact", "position"),
    Table.DERIVED_FROM: ("src", "dst"),
    Table.INTEGRATES_WITH: ("src", "dst"),
    Table.INTENTS: ("id",),
    Table.MATCHED: ("intent", "artifact"),
    Table.CO_MATCHED: ("a", "b"),
    Table.PREFERRED_OVER: ("winner", "loser"),
    Table.INTENT_PREFERENCES: ("intent", "winner", "loser", "winner_pos", "loser_pos"),
    Table.SEEKS: ("intent", "capability"),
    Table.BOARDS: ("kind", "need", "artifact"),
    Table.TOTALS: ("artifact",),
    Table.DAILY: ("artifact", "day"),
    Table.BENCHMARKS: ("artifact", "benchmark"),
    Table.SCORES: ("id",),
    Table.RANK_HISTORY: ("run", "id"),
    Table.LEDGER: ("sha256",),
    Table.RUNS: ("run",),
}

ADDITIVE: dict[Table, tuple[str, ...]] = {
    Table.INTENTS: ("searches",),
    Table.MATCHED: ("count", "clicks", "position_sum"),
    Table.CO_MATCHED: ("count",),
    Table.PREFERRED_OVER: ("count", "counts"),
    Table.INTENT_PREFERENCES: ("count",),
    Table.TOTALS: ("matched", "clicks", "pairs", "pairs_sq"),
    Table.DAILY: ("matched", "clicks", "sessions"),
}
"""Tables whose rows merge by adding their measures per key. ``preferred_over`` adds too, cell by
cell (see :func:`merge_preferences`); every measure is a sum, so a file's contribution can be
subtracted again exactly."""

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
    Table.INTENT_PREFERENCES: ("winner", "loser"),
    Table.BOARDS: ("artifact",),
    Table.TOTALS: ("artifact",),
    Table.DAILY: ("artifact",),
    Table.BENCHMARKS: ("artifact",),
}
"""For each table, the columns holding artifact ids: ``GraphStore.table(..., ids=)`` filters on them."""

LOOKUPS: dict[Table, tuple[str, ...]] = {
    Table.PROVIDERS: ("id",),
    Table.CAPABILITIES: ("id",),
    Table.HAS_CAPABILITY: ("capability",),
    Table.INTENTS: ("id",),
    Table.MATCHED: ("intent",),
    Table.INTENT_PREFERENCES: ("intent",),
    Table.SEEKS: ("intent", "capability"),
    Table.BOARDS: ("need",),
}
"""Other columns a read may filter on (``table(t, values, by=column)``): every store answers
exactly these lookups, and answers them without reading the whole table."""


def check_read(table: Table, ids: object, by: str | None, columns: object) -> None:
    """The same argument errors on every store, before it reads anything."""
    if by is not None:
        if by not in LOOKUPS.get(table, ()):
            raise ValueError(f"table {table.value} cannot be filtered on {by!r}")
        if ids is None:
            raise ValueError("a lookup by column needs the values to look up")
    elif ids is not None and table not in ARTIFACT_ENDPOINTS:
        raise ValueError(f"table {table.value} has no artifact column to filter on")
    if columns is not None:
        unknown = [c for c in columns if c not in SCHEMAS[table] and not extra_columns(table, [c])]  # type: ignore[attr-defined]
        if unknown:
            raise ValueError(f"table {table.value} has no columns {unknown}")


def empty(table: Table) -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMAS[table])


def extra_columns(table: Table, columns: Sequence[str]) -> list[str]:
    """The columns of ``columns`` that an open table keeps beyond its fixed schema."""
    if table not in OPEN_COLUMNS:
        return []
    fixed = SCHEMAS[table]
    return [c for c in columns if c not in fixed and COLUMN_NAME.match(c)]


def conform(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast ``frame`` to the table's schema, adding missing columns as nulls (an open
    table also keeps its extra columns, cast to the open type)."""
    schema = SCHEMAS[table]
    if frame.width == 0:
        return empty(table)
    columns = [
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    ]
    columns += [pl.col(name).cast(OPEN_COLUMNS[table]) for name in extra_columns(table, frame.columns)]
    return frame.select(columns)


CELL_TABLES = (Table.PREFERRED_OVER,)
"""Additive tables whose rows carry counts per pair of positions, added cell by cell. (Per-intent
preferences stay one row per cell: they are many, rarely share a pair, and are never drawn.)"""


def with_columns_of(table: Table, frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """``frame`` restricted to ``columns``; an open table's column that no row holds yet reads as nulls."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        frame = frame.with_columns(pl.lit(None, OPEN_COLUMNS[table]).alias(c) for c in missing)
    return pl.DataFrame([frame.get_column(c) for c in columns])  # no query plan: this is on every read


def tuples(frame: pl.DataFrame, *columns: str) -> Iterator[tuple[Any, ...]]:
    """The rows of ``columns`` as tuples, with no query plan (``frame.select(...).iter_rows()``
    plans and runs a select: ~0.1 ms, which a page of small reads pays many times)."""
    return zip(*(frame.get_column(c).to_list() for c in columns), strict=True)


def preference_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Per-pair preference rows as one row per (winner, loser, winner_pos, loser_pos) cell (with
    ``intent`` first when the rows have one).

    The id columns keep their type (a store may hold them as integer codes)."""
    group = ["intent"] if "intent" in frame.columns else []
    cells = frame.select(*group, "winner", "loser", "winner_pos", "loser_pos", pl.col("counts").alias("count"))
    return cells.explode(["winner_pos", "loser_pos", "count"]).with_columns(
        pl.col("winner_pos").cast(I64), pl.col("loser_pos").cast(I64), pl.col("count").cast(I64))


def preference_pairs(cells: pl.DataFrame) -> pl.DataFrame:
    """Cells summed per ((``intent``,) winner, loser, positions) and gathered into one row per
    ordered pair (per intent), cells in position order, ``count`` their total; cells that add up to
    zero are dropped."""
    pair = (["intent"] if "intent" in cells.columns else []) + ["winner", "loser"]
    summed = (
        cells.group_by(*pair, "winner_pos", "loser_pos").agg(pl.col("count").sum())
        .filter(pl.col("count") != 0)
        .sort(*pair, "winner_pos", "loser_pos")
    )
    return summed.group_by(*pair, maintain_order=True).agg(
        pl.col("count").sum().alias("total"), "winner_pos", "loser_pos", pl.col("count").alias("counts"),
    ).select(*pair, pl.col("total").alias("count"), "winner_pos", "loser_pos", "counts")


def merge_additive(table: Table, old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Combine two frames of an additive table: measures add per key, rows sorted by key.

    Both frames have the same column types (conformed, or coded alike by a store).

    Rows whose measures all add up to zero disappear, so adding a contribution and then its
    negation (``negated``) leaves the table as it was.

    Where ``old`` is already sorted by key (as a store keeps it) and its keys are integers (codes,
    positions, days), the new rows are merged into it in one pass (:func:`_merged_into_sorted`), so
    the cost of a write grows with the table, not with the table times its logarithm; other frames
    are grouped and sorted whole.
    """
    keys = list(KEYS[table])
    measures = list(ADDITIVE[table])
    if table in CELL_TABLES:
        # only the pairs the new rows touch are taken apart into cells and summed; the rest stay
        touched = new.select(keys).unique()
        packing = _sorted_packing(keys, old, touched)
        if packing is None:
            merged = preference_pairs(pl.concat([preference_cells(old.join(touched, on=keys, how="semi")),
                                                 preference_cells(new)]))
            return pl.concat([old.join(touched, on=keys, how="anti"), merged]).sort(keys)
        widths, old_keys = packing
        taken = np.zeros(old.height, dtype=bool)
        taken[_positions(old_keys, _packed(touched, keys, widths))[0]] = True
        merged = preference_pairs(pl.concat([preference_cells(old.filter(pl.Series(taken))),
                                             preference_cells(new)]))
        return _interleaved(old.filter(pl.Series(~taken)), old_keys[~taken], merged, _packed(merged, keys, widths))
    packing = _sorted_packing(keys, old, new)
    if packing is not None:
        widths, old_keys = packing
        merged = _merged_into_sorted(old, old_keys, new, _packed(new, keys, widths), keys, measures)
        return merged.select(list(SCHEMAS[table]))
    both = pl.concat([old, new], how="vertical")
    summed = both.group_by(keys, maintain_order=False).agg([pl.col(c).sum() for c in measures])
    nonzero = pl.any_horizontal([pl.col(c) != 0 for c in measures])
    return summed.filter(nonzero).sort(keys).select(list(SCHEMAS[table]))


_PACK = "__key"
"""The name of the packed key column while two sorted frames are interleaved."""


def _key_widths(keys: list[str], *frames: pl.DataFrame) -> list[int] | None:
    """The bits each of ``keys`` needs so that its values in all ``frames`` pack into one
    ``uint64`` that sorts as the keys sort together; None where they cannot: a key that is not an
    integer or a date, a null or negative value, more than 64 bits in all."""
    widths = []
    for key in keys:
        dtype = frames[0].schema[key]
        if not (dtype.is_integer() or dtype == pl.Date()):
            return None
        columns = [f.get_column(key).to_physical() for f in frames if f.height]
        if any(c.null_count() for c in columns):
            return None
        low = min((int(c.min()) for c in columns), default=0)  # type: ignore[arg-type]
        high = max((int(c.max()) for c in columns), default=0)  # type: ignore[arg-type]
        if low < 0:
            return None
        widths.append(max(high.bit_length(), 1))
    return widths if sum(widths) <= 64 else None


def _packed(frame: pl.DataFrame, keys: list[str], widths: list[int]) -> np.ndarray:
    """``frame``'s keys packed into one ``uint64`` a row, the first key in the highest bits."""
    packed = np.zeros(frame.height, dtype=np.uint64)
    shift = sum(widths)
    for key, width in zip(keys, widths, strict=True):
        shift -= width
        packed |= frame.get_column(key).to_physical().to_numpy().astype(np.uint64) << np.uint64(shift)
    return packed


def _sorted_packing(keys: list[str], old: pl.DataFrame, *others: pl.DataFrame) -> tuple[list[int], np.ndarray] | None:
    """The key widths that pack ``old`` and ``others`` (:func:`_key_widths`) and ``old``'s packed
    keys, where those keys are strictly increasing: ``old`` is sorted by key and holds each key
    once, as a store keeps its tables. None otherwise (such frames are merged the slow way)."""
    widths = _key_widths(keys, old, *others)
    if widths is None:
        return None
    packed = _packed(old, keys, widths)
    if packed.size > 1 and not bool(np.all(packed[1:] > packed[:-1])):
        return None
    return widths, packed


def _positions(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where ``keys`` sit in the strictly increasing ``sorted_keys``: the positions of those found,
    and a mask over ``keys`` of which were found."""
    at = np.searchsorted(sorted_keys, keys)
    found = at < sorted_keys.size
    found[found] = sorted_keys[at[found]] == keys[found]
    return at[found], found


def _interleaved(first: pl.DataFrame, first_keys: np.ndarray, second: pl.DataFrame,
                 second_keys: np.ndarray) -> pl.DataFrame:
    """Two frames sorted by their packed keys as one frame sorted by them, in one linear pass."""
    second = second.select(first.columns)
    if second.height == 0 or first.height == 0:
        return first if second.height == 0 else second
    merged = first.with_columns(pl.Series(_PACK, first_keys)).merge_sorted(
        second.with_columns(pl.Series(_PACK, second_keys)), _PACK)
    return merged.drop(_PACK)


def _merged_into_sorted(old: pl.DataFrame, old_keys: np.ndarray, new: pl.DataFrame, new_keys: np.ndarray,
                        keys: list[str], measures: list[str]) -> pl.DataFrame:
    """``merge_additive`` into a sorted ``old``: the new rows are summed per key, added in place to
    the rows of ``old`` with the same key and interleaved with it where their key is new; rows whose
    measures come to zero are dropped."""
    new = (new.with_columns(pl.Series(_PACK, new_keys))
           .group_by(_PACK).agg([pl.col(k).first() for k in keys] + [pl.col(m).sum() for m in measures])
           .sort(_PACK))
    summed_keys = new.get_column(_PACK).to_numpy()
    at, found = _positions(old_keys, summed_keys)
    hits = new.filter(pl.Series(found))
    columns, emptied = [], np.ones(at.size, dtype=bool)
    for measure in measures:
        values = old.get_column(measure).fill_null(0).to_numpy().copy()
        values[at] += hits.get_column(measure).to_numpy()
        emptied &= values[at] == 0
        columns.append(pl.Series(measure, values, dtype=old.schema[measure]))
    updated = old.with_columns(columns)
    if emptied.any():
        kept = np.ones(old.height, dtype=bool)
        kept[at[emptied]] = False
        updated, old_keys = updated.filter(pl.Series(kept)), old_keys[kept]
    fresh = new.filter(pl.Series(~found))
    nonzero = fresh.select(pl.any_horizontal([pl.col(c) != 0 for c in measures])).to_series().to_numpy()
    return _interleaved(updated, old_keys, fresh.filter(pl.Series(nonzero)), summed_keys[~found][nonzero])


def negated(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """An additive table's rows with every measure negated: merging it subtracts the rows."""
    if table in CELL_TABLES:
        return frame.with_columns(-pl.col("count"), pl.col("counts").list.eval(-pl.element()))
    return frame.with_columns([-pl.col(c) for c in ADDITIVE[table]])


REMOVABLE = (Table.LEDGER, Table.ARTIFACTS, Table.CAPABILITIES)
"""Tables a delta may take rows out of (see ``GraphDelta.removals``)."""
REPLACED = (Table.SCORES, Table.SEEKS, Table.BOARDS)
"""Tables a delta replaces as a whole: each scoring run computes them afresh."""
BOARD_KINDS = ("capability", "intent")
"""What a board's ``need`` names: a capability id or an intent."""


@dataclass
class GraphDelta:
    """One atomic change to the graph: every table it carries is applied, or none is.

    Semantics per table: ``artifacts`` upsert, where a catalogued row's non-null fields overwrite and
    a stub row (``catalogued`` false) is only inserted where the id is new; ``has_capability`` replaces
    the whole capability list of each artifact it names (one row per statement, keyed by its
    position in the catalog's list); node tables upsert; link tables add missing links; additive
    tables add their measures; ``scores``, ``seeks`` and ``boards`` (:data:`REPLACED`) replace the
    previous table; ``rank_history``, ``ledger`` and ``runs`` append.
    ``benchmarks`` replaces the whole list of benchmark results of each artifact it names, as
    ``has_capability`` does.

    ``removals`` take rows out, after the tables are applied: ledger entries by ``sha256``, stub
    artifacts (never catalogued ones) by ``id`` (what taking back a file needs), and capabilities by
    ``id`` unless a ``has_capability`` row still names them; a capability that goes takes its
    ``seeks`` rows and its board with it (what a scoring run needs when it regroups capabilities).
    """

    tables: dict[Table, pl.DataFrame] = field(default_factory=dict)
    removals: dict[Table, list[str]] = field(default_factory=dict)

    def set(self, table: Table, frame: pl.DataFrame) -> GraphDelta:
        self.tables[table] = conform(table, frame)
        return self

    def remove(self, table: Table, keys: Sequence[str]) -> GraphDelta:
        if table not in REMOVABLE:
            raise ValueError(f"rows of {table.value} cannot be removed")
        self.removals[table] = sorted({*self.removals.get(table, []), *keys})
        return self

    def get(self, table: Table) -> pl.DataFrame:
        return self.tables.get(table, empty(table))

