"""Search logs from OpenSearch User Behavior Insights (UBI), turned into native searches.

UBI keeps two kinds of documents: one *query* document per search (``ubi_queries``) and many
*event* documents (``ubi_events``) that point at it by ``query_id``. A file may hold them as plain
JSON lines, or as ``_bulk`` NDJSON where an action line (``{"index": {"_index": "ubi_events"}}``)
comes before each document; the action's ``_index`` then says which kind follows, and without one
a document with an ``action_name`` is an event.

One search is built per ``query_id`` seen in either kind:

* ``search_id`` is the ``query_id``; ``query`` and ``ts`` come from the query document, or, for
  events whose query document is not in the file, from the earliest event that has them (the
  ``message`` of a ``QUERY`` event stands in for a missing ``user_query``); ``session_id`` is the
  event's ``session_id`` (or ``event_attributes.session_id``) and else the ``client_id``;
* ``results`` are the objects of the ``impression`` events in the order of their
  ``event_attributes.position.ordinal`` (whether ordinals start at 0 or 1, ranks follow the
  order); a search without impressions falls back to the query's ``query_response_hit_ids``;
* ``clicks`` are the objects of the events in :data:`CHOICE_ACTIONS`.

Several query documents may share one ``query_id`` (the Chorus demo logs one per request while a
person types); they make one search: the earliest gives the query text and time, the first with
hit ids gives the fallback results, and the search's record number is the first document's line.

Integer timestamps are epoch milliseconds (what the UBI JavaScript client sends). Every UBI file
is read in one pass that keeps only these narrow columns, because the events of one search may be
anywhere in the file; the searches are then assembled with polars joins and go through the same
:func:`ingest.logs.finish` as the native format, so a bad object id rejects its search.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

import polars as pl

from graph.limits import DEFAULT_LIMITS, ReadLimits
from graph.schema import fold_id_expr
from ingest.files import iter_line_chunks
from ingest.jsonl import Ident, Int, LineDecoder, ListOf, Obj, Str
from ingest.logs import CHUNK_LINES, SEARCH_SCHEMA, SeenIds, finish, parse_timestamps, ts_window_checks

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ingest.rejects import Rejects

#: Event actions that record a person choosing the object: each becomes a click of its search.
#: Hover, filter, sort and ``global_click`` (a click on a page location, not on an item) are not.
CHOICE_ACTIONS: frozenset[str] = frozenset({"click", "item_click", "add_to_cart", "purchase"})
IMPRESSION_ACTION = "impression"
NO_RESULTS = "no impression events and no query_response_hit_ids: the results shown are unknown"

_TARGET = Obj({"_index": Str()})
UBI_LINE = Obj({
    "index": _TARGET,
    "create": _TARGET,
    "query_id": Str(),
    "action_name": Str(),
    "user_query": Str(),
    "timestamp": Ident(),
    "session_id": Str(),
    "client_id": Str(),
    "message_type": Str(),
    "message": Str(),
    "query_response_hit_ids": ListOf(Ident()),
    "event_attributes": Obj({
        "object": Obj({"object_id": Ident()}),
        "position": Obj({"ordinal": Int()}),
        "session_id": Str(),
    }),
})
"""The fields of a UBI line (a ``_bulk`` action, a query or an event document) the searches are
built from; the rest of a document is not looked at."""
_DECODER = LineDecoder(UBI_LINE)

_S, _I, _TS = pl.String(), pl.Int64(), pl.Datetime("us", "UTC")
_QUERY_COLS: dict[str, pl.DataType] = {"_line": _I, "query_id": _S, "user_query": _S, "ts": _TS,
                                       "session_id": _S, "client_id": _S, "hit_ids": pl.List(_S)}
_SHOWN_COLS: dict[str, pl.DataType] = {"query_id": _S, "ordinal": _I, "_line": _I, "object_id": _S}
_CHOSEN_COLS: dict[str, pl.DataType] = {"query_id": _S, "_line": _I, "object_id": _S}
_MARK_COLS: dict[str, pl.DataType] = {"query_id": _S, "ts": _TS, "_line": _I, "first_line": _I,
                                      "session": _S, "text": _S}


def _timestamp(limits: ReadLimits) -> pl.Expr:
    """ISO 8601 text, or integer epoch milliseconds, as UTC datetimes.

    The UBI schema gives ISO 8601 (an offset or ``Z``, else UTC); OpenSearch's ``date`` mapping
    also stores epoch milliseconds, which is what the UBI JavaScript client sends. Epoch seconds are
    not part of either, and a number is never guessed to be seconds. Milliseconds outside the
    accepted window become null here (their reason is given by :func:`_doc_reason`) before
    conversion, which would overflow.
    """
    earliest, latest = limits.ts_window()
    digits = pl.col("timestamp").str.contains(r"^-?\d{1,18}$")
    millis = pl.col("timestamp").cast(pl.Int64, strict=False)
    inside = millis.is_between(int(earliest.timestamp() * 1000), int(latest.timestamp() * 1000))
    epoch = pl.from_epoch(pl.when(inside).then(millis), time_unit="ms")
    return (
        pl.when(digits)
        .then(epoch.dt.replace_time_zone(str(UTC)).dt.cast_time_unit("us"))
        .otherwise(parse_timestamps("timestamp"))
        .alias("ts")
    )


def _doc_reason(limits: ReadLimits) -> pl.Expr:
    """Why a query or event document cannot be used (null when it can)."""
    digits = pl.col("timestamp").str.contains(r"^-?\d+$")
    checks = [
        (pl.col("query_id").is_null() | (pl.col("query_id").str.strip_chars() == ""),
         "query_id: missing, so the document belongs to no search"),
        (pl.col("ordinal") < 0, "event_attributes.position.ordinal: must be 0 or more"),
        (pl.col("timestamp").is_not_null() & digits & pl.col("ts").is_null(),
         "timestamp: epoch milliseconds outside the accepted window (MATCHGRAPH_TS_EARLIEST, "
         "MATCHGRAPH_TS_FUTURE_TOLERANCE_S)"),
        (pl.col("timestamp").is_not_null() & pl.col("ts").is_null(),
         "timestamp: neither ISO 8601 nor epoch milliseconds"),
        *ts_window_checks(pl.col("ts"), limits, "timestamp"),
    ]
    reason = pl.lit(None, pl.String)
    for condition, text in reversed(checks):
        reason = pl.when(condition.fill_null(False)).then(pl.lit(text)).otherwise(reason)
    return reason


class _Parts:
    """The narrow columns kept from a whole file, collected chunk by chunk."""

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.queries: list[pl.DataFrame] = []
        self.shown: list[pl.DataFrame] = []
        self.chosen: list[pl.DataFrame] = []
        self.marks: list[pl.DataFrame] = []
        self.last_action: pl.DataFrame = pl.DataFrame(schema={"_line": pl.Int64, "kind": pl.String})

    def add(self, raw: pl.DataFrame, source: str, rejects: Rejects) -> None:
        frame = raw.with_columns(
            pl.coalesce(pl.col("index").struct.field("_index"), pl.col("create").struct.field("_index"))
            .alias("_target"),
            (pl.col("index").is_not_null() | pl.col("create").is_not_null()).alias("_action"),
        )
        actions = pl.concat([
            self.last_action,
            frame.filter(pl.col("_action")).select(
                "_line",
                pl.when(pl.col("_target").str.contains("(?i)event")).then(pl.lit("event"))
                .when(pl.col("_target").str.contains("(?i)quer")).then(pl.lit("query"))
                .otherwise(pl.lit(None, pl.String)).alias("kind"),
            ),
        ])
        self.last_action = actions.tail(1)
        docs = (
            frame.filter(~pl.col("_action"))
            .join(actions.with_columns(pl.col("_line") + 1), on="_line", how="left")
            .with_columns(
                pl.coalesce(
                    pl.col("kind"),
                    pl.when(pl.col("action_name").is_not_null()).then(pl.lit("event")).otherwise(pl.lit("query")),
                ).alias("kind"),
                _timestamp(self.limits),
                fold_id_expr(pl.col("event_attributes").struct.field("object").struct.field("object_id"))
                .alias("object_id"),
                pl.col("event_attributes").struct.field("position").struct.field("ordinal").alias("ordinal"),
            )
        )
        docs = docs.with_columns(_doc_reason(self.limits).alias("_reason"))
        for line, reason, text in docs.filter(pl.col("_reason").is_not_null()).select(
                "_line", "_reason", "_raw").iter_rows():
            rejects.add(source, line, reason, text)
        docs = docs.filter(pl.col("_reason").is_null()).drop("_raw", "_reason")
        queries = docs.filter(pl.col("kind") == "query")
        self.queries.append(queries.select(
            "_line", "query_id", "user_query", "ts", "session_id", "client_id",
            pl.col("query_response_hit_ids").list.eval(fold_id_expr(pl.element())).alias("hit_ids"),
        ))
        events = docs.filter(pl.col("kind") == "event")
        self.shown.append(events.filter(
            (pl.col("action_name") == IMPRESSION_ACTION) & pl.col("object_id").is_not_null()
        ).select(list(_SHOWN_COLS)))
        self.chosen.append(events.filter(
            pl.col("action_name").is_in(list(CHOICE_ACTIONS)) & pl.col("object_id").is_not_null()
        ).select(list(_CHOSEN_COLS)))
        self.marks.append(_marks(events.select(
            "query_id", "ts", "_line",
            pl.coalesce("session_id", pl.col("event_attributes").struct.field("session_id"), "client_id")
            .alias("session"),
            pl.coalesce(
                "user_query",
                pl.when(pl.col("message_type").str.to_uppercase() == "QUERY").then(pl.col("message")),
            ).alias("text"),
            pl.col("_line").alias("first_line"),
        )))


def _marks(events: pl.DataFrame) -> pl.DataFrame:
    """Per query_id, only the events that can still be the earliest one (overall, with text, with a
    session) once more events are seen; the reduction is repeatable over merged chunks."""
    ordered = events.sort("query_id", "ts", "_line", nulls_last=True)
    rank = pl.int_range(pl.len()).over("query_id")
    with_text = pl.col("text").is_not_null()
    with_session = pl.col("session").is_not_null()
    keep = (
        (rank == 0)
        | (with_text & (with_text.cum_sum().over("query_id") == 1))
        | (with_session & (with_session.cum_sum().over("query_id") == 1))
    )
    return ordered.with_columns(pl.col("first_line").min().over("query_id")).filter(keep).select(list(_MARK_COLS))


def _concat(frames: list[pl.DataFrame], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.concat([pl.DataFrame(schema=schema), *frames], how="vertical_relaxed")


def _searches(parts: _Parts, source: str, rejects: Rejects) -> pl.DataFrame:
    """The raw searches of a file (before :func:`finish`), in the order of their first line."""
    queries = (
        _concat(parts.queries, _QUERY_COLS)
        .sort("query_id", "ts", "_line", nulls_last=True)
        .group_by("query_id", maintain_order=True)
        .agg(
            pl.col("_line").min(),
            pl.col("user_query", "ts", "session_id", "client_id").drop_nulls().first(),
            pl.col("hit_ids").filter(pl.col("hit_ids").list.len() > 0).first(),
        )
    )
    marks = _marks(_concat(parts.marks, _MARK_COLS)).group_by("query_id").agg(
        pl.col("ts").first().alias("m_ts"),
        pl.col("first_line").min().alias("m_line"),
        pl.col("session").drop_nulls().first().alias("m_session"),
        pl.col("text").drop_nulls().first().alias("m_text"),
    )
    shown = _concat(parts.shown, _SHOWN_COLS).group_by("query_id").agg(
        pl.col("object_id").sort_by("ordinal", "_line", nulls_last=True).alias("shown")
    )
    chosen = _concat(parts.chosen, _CHOSEN_COLS).group_by("query_id").agg(
        pl.col("object_id").sort_by("_line").alias("chosen")
    )
    ids = pl.concat([queries.select("query_id"), marks.select("query_id")]).unique()
    frame = (
        ids.join(queries, on="query_id", how="left")
        .join(marks, on="query_id", how="left")
        .join(shown, on="query_id", how="left")
        .join(chosen, on="query_id", how="left")
        .select(
            pl.col("query_id").alias("search_id"),
            pl.coalesce("ts", "m_ts").alias("ts"),
            pl.coalesce("user_query", "m_text").alias("query"),
            pl.coalesce(pl.col("shown"), pl.col("hit_ids")).alias("results"),
            pl.col("chosen").fill_null([]).alias("clicks"),
            pl.coalesce("session_id", "m_session", "client_id").alias("session_id"),
            pl.coalesce("_line", "m_line").alias("_line"),
        )
        .sort("_line")
    )
    empty = pl.col("results").is_null() | (pl.col("results").list.len() == 0)
    for line, raw in frame.filter(empty).select(
            "_line", pl.struct(pl.exclude("_line")).struct.json_encode()).iter_rows():
        rejects.add(source, line, NO_RESULTS, raw)
    return frame.filter(~empty)


def read_ubi(path: Path, rejects: Rejects, seen: SeenIds, chunk_lines: int = CHUNK_LINES,
             limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[pl.DataFrame]:
    """Frames of valid searches (:data:`ingest.logs.SEARCH_SCHEMA`) from one UBI file.

    The file is read once; the searches come out in chunks of at most ``chunk_lines``.
    """
    source = str(path)
    parts = _Parts(limits)
    for first, lines in iter_line_chunks(path, chunk_lines, rejects, limits):
        raw = _DECODER.chunk(source, first, lines, rejects)
        if raw.height:
            parts.add(raw, source, rejects)
    searches = _searches(parts, source, rejects)
    for offset in range(0, searches.height, chunk_lines):
        good = finish(searches.slice(offset, chunk_lines), source, rejects, seen, limits)
        if good.height:
            yield good


__all__ = ["CHOICE_ACTIONS", "SEARCH_SCHEMA", "UBI_LINE", "read_ubi"]
