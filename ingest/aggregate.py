"""Turning validated searches into the graph's additive aggregates, all in polars, in linear time.

For a frame of searches (``ingest.logs.SEARCH_SCHEMA``):

* ``intents``: searches per normalized query;
* ``matched``: per (intent, artifact), searches listing it, clicks on it, sum of its positions;
* ``daily``: per (artifact, day), searches listing it, clicks on it and the distinct sessions that
  listed it (a search without a session is a session of its own). Sessions are distinct within
  one aggregator (one input file: :meth:`Aggregator.absorb` settles each file's count) whatever
  its blocks, and add across files, so only a session whose searches fall in two files on the
  same day counts twice;
* ``co_matched``: per unordered pair in the top ``TOP_K`` of one search, the searches listing both;
* ``preferred_over``: per ordered pair (chosen, shown but not chosen), the number of searches where
  a person chose the first from the top ``TOP_K`` while the second was shown there too (the
  rank-breaking of a choice from a shown list), with the counts per pair of positions, so scoring
  can fit position bias;
* ``intent_preferences``: the same per intent, one row per cell (intent, winner, loser, both
  positions), so a need's own board can be fitted on the searches that sought it;
* ``comparison_load``: per artifact, the pairs it took part in and the sum over searches of the
  squared number of its pairs in each: how much its comparisons come in bunches from one search
  (one click against nine others is one event, not nine), which the rating intervals account for;
* ``artifacts``: stub rows for every id seen, so nothing a log names is dropped.

:class:`Aggregator` sums blocks without ever re-grouping what it has: each block is aggregated on
integer codes (one dictionary of artifact ids and one of intents for the whole aggregator) and
kept as a part; parts are combined only when they outgrow what was combined last (so each row is
re-grouped a logarithmic number of times at most) and once at the end. Ids go back to text once,
when the delta is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from graph.schema import normalize_intent_expr
from graph.tables import ADDITIVE, CELL_TABLES, GraphDelta, Table, preference_pairs

TOP_K = 10
CODE = pl.UInt32
COMPACT_ROWS = 1_000_000
"""Parts of a table are combined once they hold more than this many rows (and more than twice what
the last combination left)."""

CELL_KEYS = ("winner", "loser", "winner_pos", "loser_pos")

# The keys and measures of each part, on codes (``a``/``b``/``winner``/``loser``/``artifact`` are
# artifact codes, ``intent`` intent codes).
PART_KEYS: dict[Table, tuple[str, ...]] = {
    Table.INTENTS: ("intent",),
    Table.MATCHED: ("intent", "artifact"),
    Table.DAILY: ("artifact", "day"),
    Table.CO_MATCHED: ("a", "b"),
    Table.PREFERRED_OVER: CELL_KEYS,
    Table.INTENT_PREFERENCES: ("intent", *CELL_KEYS),
    Table.TOTALS: ("artifact",),
}
PART_MEASURES: dict[Table, tuple[str, ...]] = {
    Table.INTENTS: ("searches",),
    Table.MATCHED: ("count", "clicks", "position_sum"),
    Table.DAILY: ("matched", "clicks", "sessions"),
    Table.CO_MATCHED: ("count",),
    Table.PREFERRED_OVER: ("count",),
    Table.INTENT_PREFERENCES: ("count",),
    Table.TOTALS: ("matched", "clicks", "pairs", "pairs_sq"),
}


ARTIFACT, INTENT = "artifact", "intent"
CODED: dict[Table, dict[str, str]] = {
    Table.INTENTS: {"intent": INTENT},
    Table.MATCHED: {"intent": INTENT, "artifact": ARTIFACT},
    Table.DAILY: {"artifact": ARTIFACT},
    Table.CO_MATCHED: {"a": ARTIFACT, "b": ARTIFACT},
    Table.PREFERRED_OVER: {"winner": ARTIFACT, "loser": ARTIFACT},
    Table.INTENT_PREFERENCES: {"intent": INTENT, "winner": ARTIFACT, "loser": ARTIFACT},
    Table.TOTALS: {"artifact": ARTIFACT},
}
"""Which columns of each part hold codes, and of which dictionary."""


class Dictionary:
    """Text ids to dense integer codes, in order of first sight."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.ids: list[str] = []

    def encode(self, values: pl.Series) -> pl.Series:
        """The code of every value (new values get the next codes)."""
        unique = values.unique(maintain_order=True).drop_nulls().to_list()
        for value in unique:
            if value not in self.codes:
                self.codes[value] = len(self.ids)
                self.ids.append(value)
        table = pl.DataFrame({"_v": unique, "_c": [self.codes[v] for v in unique]},
                             schema={"_v": pl.String, "_c": CODE})
        return values.to_frame("_v").join(table, on="_v", how="left", maintain_order="left").get_column("_c")

    def decode(self, codes: pl.Series) -> pl.Series:
        return pl.Series(self.ids, dtype=pl.String).gather(codes)


def block_parts(searches: pl.DataFrame, artifacts: Dictionary,
                intents: Dictionary) -> tuple[dict[Table, pl.DataFrame], pl.DataFrame]:
    """The aggregates of one block of valid searches, keyed by codes, and the block's distinct
    (artifact, day, session) triples, each session as its 64-bit polars hash (two sessions of one
    artifact and day sharing a hash is a chance of about n^2 / 2^65). The block's daily rows carry
    no sessions: an aggregator counts them from the triples of all its blocks."""
    s = searches.with_row_index("sid").select(
        "sid",
        pl.coalesce(pl.col("session_id"), pl.lit("search:") + pl.col("search_id")).alias("session"),
        normalize_intent_expr("query").alias("intent_text"),
        pl.col("ts").dt.date().alias("day"),
        "results",
        "clicks",
    )
    s = s.with_columns(intents.encode(s.get_column("intent_text")).alias("intent")).drop("intent_text")
    shown = (
        s.select("sid", "session", "intent", "day", "results",
                 pl.int_ranges(1, pl.col("results").list.len() + 1).alias("pos"))
        .explode(["results", "pos"])
        .rename({"results": "artifact_text"})
    )
    clicked = (s.select("sid", "intent", "day", "clicks").explode("clicks").rename({"clicks": "artifact_text"})
               .drop_nulls("artifact_text"))
    every = pl.concat([shown.get_column("artifact_text"), clicked.get_column("artifact_text")])
    codes = artifacts.encode(every)
    shown = shown.with_columns(codes.head(shown.height).alias("artifact")).drop("artifact_text")
    clicked = clicked.with_columns(codes.tail(clicked.height).alias("artifact")).drop("artifact_text")
    shown = shown.join(clicked.select("sid", "artifact", pl.lit(True).alias("chosen")), on=["sid", "artifact"],
                       how="left").with_columns(pl.col("chosen").fill_null(False))

    intents_part = s.group_by("intent").agg(pl.len().cast(pl.Int64).alias("searches"))
    match_counts = shown.group_by("intent", "artifact").agg(pl.len().cast(pl.Int64).alias("count"),
                                                            pl.col("pos").sum().cast(pl.Int64).alias("position_sum"))
    click_counts = clicked.group_by("intent", "artifact").agg(pl.len().cast(pl.Int64).alias("clicks"))
    matched = match_counts.join(click_counts, on=["intent", "artifact"], how="full", coalesce=True).with_columns(
        pl.col("count").fill_null(0), pl.col("clicks").fill_null(0), pl.col("position_sum").fill_null(0))
    daily = (
        shown.group_by("artifact", "day").agg(pl.len().cast(pl.Int64).alias("matched"))
        .join(clicked.group_by("artifact", "day").agg(pl.len().cast(pl.Int64).alias("clicks")),
              on=["artifact", "day"], how="full", coalesce=True)
        .with_columns(pl.col("matched").fill_null(0), pl.col("clicks").fill_null(0),
                      pl.lit(0, dtype=pl.Int64).alias("sessions"))
    )

    co_matched, choices = _pairs(shown, s.height)
    prefs = choices.group_by(*CELL_KEYS).agg(pl.len().cast(pl.Int64).alias("count"))
    intent_prefs = choices.join(s.select("sid", "intent"), on="sid").group_by("intent", *CELL_KEYS).agg(
        pl.len().cast(pl.Int64).alias("count"))
    per_search = pl.concat([choices.select("sid", pl.col("winner").alias("artifact")),
                            choices.select("sid", pl.col("loser").alias("artifact"))])
    load = per_search.group_by("sid", "artifact").agg(pl.len().cast(pl.Int64).alias("n")).group_by("artifact").agg(
        pl.col("n").sum().alias("pairs"), (pl.col("n") * pl.col("n")).sum().alias("pairs_sq"))
    per_artifact = matched.group_by("artifact").agg(pl.col("count").sum().alias("matched"), pl.col("clicks").sum())
    totals = per_artifact.join(load, on="artifact", how="full", coalesce=True).with_columns(
        pl.col("matched", "clicks", "pairs", "pairs_sq").fill_null(0))
    seen = shown.select("artifact", "day", pl.col("session").hash().alias("session")).unique()
    return {
        Table.INTENTS: intents_part,
        Table.MATCHED: matched,
        Table.DAILY: daily,
        Table.CO_MATCHED: co_matched,
        Table.PREFERRED_OVER: prefs,
        Table.INTENT_PREFERENCES: intent_prefs,
        Table.TOTALS: totals,
    }, seen


_UPPER_I, _UPPER_J = np.triu_indices(TOP_K, 1)
_ORDERED_I, _ORDERED_J = np.nonzero(~np.eye(TOP_K, dtype=bool))


def _pairs(shown: pl.DataFrame, searches: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The co-matches and the choices of a block, from its top ``TOP_K`` results laid out as a
    searches x positions array: every pair of positions is a column of that array, so no join of
    the block with itself is needed."""
    top = shown.filter(pl.col("pos") <= TOP_K)
    sid = top.get_column("sid").to_numpy().astype(np.int64)
    col = top.get_column("pos").to_numpy().astype(np.int64) - 1
    codes = np.full((searches, TOP_K), -1, dtype=np.int64)
    codes[sid, col] = top.get_column("artifact").to_numpy()
    chosen = np.zeros((searches, TOP_K), dtype=bool)
    chosen[sid, col] = top.get_column("chosen").to_numpy()
    left, right = codes[:, _UPPER_I], codes[:, _UPPER_J]
    both = (left >= 0) & (right >= 0)
    a, b = np.minimum(left, right)[both], np.maximum(left, right)[both]
    co = pl.DataFrame({"a": a.astype(np.uint32), "b": b.astype(np.uint32)}).group_by("a", "b").agg(
        pl.len().cast(pl.Int64).alias("count"))
    winner, loser = codes[:, _ORDERED_I], codes[:, _ORDERED_J]
    picked = chosen[:, _ORDERED_I] & ~chosen[:, _ORDERED_J] & (winner >= 0) & (loser >= 0)
    rows, cell = np.nonzero(picked)
    choices = pl.DataFrame({
        "sid": rows.astype(np.uint32),
        "winner": winner[rows, cell].astype(np.uint32), "loser": loser[rows, cell].astype(np.uint32),
        "winner_pos": _ORDERED_I[cell].astype(np.int64) + 1, "loser_pos": _ORDERED_J[cell].astype(np.int64) + 1,
    })
    return co, choices


def _combine(table: Table, parts: list[pl.DataFrame]) -> pl.DataFrame:
    both = pl.concat(parts, how="vertical")
    return both.group_by(list(PART_KEYS[table])).agg([pl.col(c).sum() for c in PART_MEASURES[table]])


def _outgrown(pending: int, settled: int) -> bool:
    """Whether parts holding ``pending`` new rows should be combined with the ``settled`` rows the
    last combination left: only once they outgrow them, geometric, so linear (see ``COMPACT_ROWS``)."""
    return pending > max(COMPACT_ROWS, 2 * settled)


@dataclass
class Aggregator:
    """Sums the aggregates of many blocks of searches into one delta (counts add, so the result
    does not depend on the order or the grouping of the blocks)."""

    artifacts: Dictionary = field(default_factory=Dictionary)
    intents: Dictionary = field(default_factory=Dictionary)
    searches: int = 0
    parts: dict[Table, list[pl.DataFrame]] = field(default_factory=lambda: {t: [] for t in PART_KEYS})
    _pending: dict[Table, int] = field(default_factory=lambda: dict.fromkeys(PART_KEYS, 0))
    _settled: dict[Table, int] = field(default_factory=lambda: dict.fromkeys(PART_KEYS, 0))
    seen: list[pl.DataFrame] = field(default_factory=list)
    """Distinct (artifact, day, session) triples of the blocks added since the sessions were last
    settled (:meth:`settle_sessions`), compacted like the parts."""
    _seen_settled: int = 0

    def add(self, searches: pl.DataFrame) -> None:
        if searches.height == 0:
            return
        self.searches += searches.height
        parts, seen = block_parts(searches, self.artifacts, self.intents)
        for table, frame in parts.items():
            self._append(table, [frame.select(*PART_KEYS[table], *PART_MEASURES[table])])
        self.seen.append(seen)
        if _outgrown(sum(f.height for f in self.seen) - self._seen_settled, self._seen_settled):
            self.seen = [pl.concat(self.seen).unique()]
            self._seen_settled = self.seen[0].height

    def settle_sessions(self) -> None:
        """Count the distinct sessions of everything added since the last call into the daily
        table, once: a file's sessions are distinct over the whole file, whatever its blocks."""
        if not self.seen:
            return
        sessions = (pl.concat(self.seen).unique().group_by("artifact", "day")
                    .agg(pl.len().cast(pl.Int64).alias("sessions"))
                    .with_columns(pl.lit(0, dtype=pl.Int64).alias("matched"),
                                  pl.lit(0, dtype=pl.Int64).alias("clicks")))
        self.seen, self._seen_settled = [], 0
        self._append(Table.DAILY, [sessions.select(*PART_KEYS[Table.DAILY], *PART_MEASURES[Table.DAILY])])

    def _append(self, table: Table, frames: list[pl.DataFrame]) -> None:
        """Keep ``frames`` as parts of ``table``, combining the parts once they outgrow what was
        combined last (:func:`_outgrown`)."""
        self.parts[table].extend(frames)
        self._pending[table] += sum(f.height for f in frames)
        if _outgrown(self._pending[table], self._settled[table]):
            self._compact(table)

    def _compact(self, table: Table) -> None:
        combined = _combine(table, self.parts[table])
        self.parts[table] = [combined]
        self._settled[table] = combined.height
        self._pending[table] = 0

    def child(self) -> Aggregator:
        """A new aggregator sharing this one's dictionaries, so its parts can be absorbed as they are."""
        return Aggregator(artifacts=self.artifacts, intents=self.intents)

    def absorb(self, other: Aggregator) -> None:
        """Add everything ``other`` holds (another file's aggregate) to this one; ``other``'s
        sessions are settled first, so each file's distinct sessions add up."""
        if other.searches == 0:
            return
        other.settle_sessions()
        self.searches += other.searches
        if other.artifacts is self.artifacts and other.intents is self.intents:  # a child: same codes
            for table, frames in other.parts.items():
                self._append(table, frames)
            return
        recode = {
            ARTIFACT: self.artifacts.encode(pl.Series(other.artifacts.ids, dtype=pl.String)),
            INTENT: self.intents.encode(pl.Series(other.intents.ids, dtype=pl.String)),
        }
        for table, frames in other.parts.items():
            recoded = [frame.with_columns(recode[kind].gather(frame.get_column(column)).alias(column)
                                          for column, kind in CODED[table].items()) for frame in frames]
            if table is Table.CO_MATCHED:  # pairs are oriented by code: the codes changed
                recoded = [f.select(pl.min_horizontal("a", "b").alias("a"), pl.max_horizontal("a", "b").alias("b"),
                                    "count") for f in recoded]
            self._append(table, recoded)

    def delta(self) -> GraphDelta:
        """The aggregates as a delta: ids back to text, pairs oriented by id, preferences per pair."""
        delta = GraphDelta()
        if self.searches == 0:
            return delta
        self.settle_sessions()
        frames = {t: _combine(t, parts) if parts else None for t, parts in self.parts.items()}
        decoders = {ARTIFACT: self.artifacts.decode, INTENT: self.intents.decode}
        for table, frame in frames.items():
            if frame is None:
                continue
            if table in CELL_TABLES:  # cells into one row per pair while the keys are still integers
                frame = preference_pairs(frame)
            frame = frame.with_columns(decoders[kind](frame.get_column(column)).alias(column)
                                       for column, kind in CODED[table].items())
            if table is Table.INTENTS:
                frame = frame.rename({"intent": "id"})
            elif table is Table.CO_MATCHED:  # codes came in order of sight: orient each pair by id
                frame = frame.select(pl.min_horizontal("a", "b").alias("a"), pl.max_horizontal("a", "b").alias("b"),
                                     "count")
            delta.set(table, frame)
        # every artifact a search named has a total; a dictionary shared with a failed file may hold more
        named = frames[Table.TOTALS]
        ids = self.artifacts.decode(named.get_column("artifact").unique().sort()) if named is not None else \
            pl.Series("id", [], dtype=pl.String)
        delta.set(Table.ARTIFACTS, pl.DataFrame({"id": ids, "name": ids, "catalogued": False}))
        return delta


def aggregate_searches(searches: pl.DataFrame) -> dict[Table, pl.DataFrame]:
    """The additive tables (plus stub artifacts) one frame of valid searches contributes."""
    aggregator = Aggregator()
    aggregator.add(searches)
    delta = aggregator.delta()
    return {table: delta.get(table) for table in (*ADDITIVE, Table.ARTIFACTS)}
