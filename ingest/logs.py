"""Search logs in the native format (JSON lines, CSV or Parquet), validated into one frame of searches.

A native search record::

    {"search_id": "s1", "ts": "2026-01-02T03:04:05Z", "query": "text to image",
     "results": ["flux-1-pro", "dalle-3"], "clicks": ["flux-1-pro"], "session_id": "u9"}

``search_id``, ``ts``, ``query`` and ``results`` are required. Every reader yields frames with the
columns of :data:`SEARCH_SCHEMA`; ids are folded (:func:`graph.schema.fold_id`), duplicated ids
inside one result list keep their first position, and a ``search_id`` seen before in the same
command is rejected. Timestamps are ISO 8601 (``Z``, offsets, fractional seconds, a space for the
``T``, a bare date; no offset means UTC) within the window of ``MATCHGRAPH_TS_EARLIEST`` and
``MATCHGRAPH_TS_FUTURE_TOLERANCE_S``.

Every check runs in polars over whole chunks (:func:`finish`); Python sees only the lines polars
cannot decode (:mod:`ingest.jsonl`) or CSV rows polars cannot split.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from graph.errors import BadFile
from graph.limits import DEFAULT_LIMITS, ReadLimits
from graph.schema import ArtifactId, Text, fold_id_expr, id_problem_expr, unusual_ids_pattern
from ingest.files import (
    PARQUET_MAGIC,
    POLARS_FAILURES,
    first_line,
    head,
    iter_line_chunks,
    read_content,
    unknown_format,
)
from ingest.jsonl import NOT_BLANK, Ident, LineDecoder, ListOf, Obj, Str

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from polars._typing import PolarsDataType

    from ingest.rejects import Rejects

CHUNK_LINES = 100_000

SEARCH_SCHEMA: dict[str, pl.DataType] = {
    "search_id": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "query": pl.String(),
    "results": pl.List(pl.String()),
    "clicks": pl.List(pl.String()),
    "session_id": pl.String(),
}
REQUIRED = ("search_id", "ts", "query", "results")


class NativeSearch(BaseModel):
    """One native search record as a pydantic model, for tools that check one record at a time.

    The readers do not use it: they apply the same rules in polars (:func:`finish`).
    """

    model_config = ConfigDict(extra="ignore")

    search_id: Annotated[str, StringConstraints(min_length=1)] | int
    ts: datetime
    query: Text
    results: list[ArtifactId] = Field(min_length=1)
    clicks: list[ArtifactId] = Field(default_factory=list)
    session_id: str | int | None = None


NATIVE = Obj({
    "search_id": Ident(),
    "ts": Str(),
    "query": Str(),
    "results": ListOf(Str()),
    "clicks": ListOf(Str()),
    "session_id": Ident(),
})
_DECODER = LineDecoder(NATIVE)


def parse_timestamps(column: str) -> pl.Expr:
    """ISO 8601 text to UTC datetimes, null where it is not one.

    Accepted: ``2026-01-20T10:00:00Z``, offsets (``+02:00``, ``+0200``, ``-05``), fractional
    seconds, ``T`` or a space between date and time, minutes without seconds, a bare date; no
    offset means UTC. Each value is rewritten to one canonical form first, so no format is
    guessed from the first row of a chunk (polars' own inference would apply that row's format
    to every other row).
    """
    text = pl.col(column).str.strip_chars().str.to_uppercase()
    text = pl.when(text.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(text + "T00:00:00").otherwise(text)
    text = (
        text.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
        .str.replace(r"(T\d{2}:\d{2})($|[Z+-])", "${1}:00${2}")
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"(T[0-9:.]+[+-]\d{2})(\d{2})$", "${1}:${2}")
        .str.replace(r"(T[0-9:.]+[+-]\d{2})$", "${1}:00")
    )
    text = pl.when(text.str.contains(r"[+-]\d{2}:\d{2}$")).then(text).otherwise(text + "+00:00")
    return text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC", strict=False)


def ts_window_checks(ts: pl.Expr, limits: ReadLimits, what: str) -> list[tuple[pl.Expr, str]]:
    """(condition, reason) pairs that reject a parsed timestamp outside the accepted window."""
    earliest, latest = limits.ts_window()
    return [
        (ts < pl.lit(earliest), f"{what}: before {earliest:%Y-%m-%d} (MATCHGRAPH_TS_EARLIEST)"),
        (ts > pl.lit(latest), f"{what}: in the future, after {latest:%Y-%m-%dT%H:%M:%SZ} "
                              "(MATCHGRAPH_TS_FUTURE_TOLERANCE_S)"),
    ]


def list_id_problem(column: str, limits: ReadLimits) -> pl.Expr:
    """The first problem among the ids of a list column, prefixed with the column name, or null."""
    problems = pl.col(column).list.eval(id_problem_expr(pl.element(), limits.max_id_chars).drop_nulls())
    return pl.concat_str(pl.lit(f"{column}: holds a value that is not an artifact id ("), problems.list.first(),
                         pl.lit(")"))


class SeenIds:
    """The search ids one command has taken in, so a repeated id is rejected, not counted twice.

    Kept as polars frames in size tiers (the newest merged into the previous while they are of
    similar size), and probed with a semi-join built on the small chunk, so checking a chunk costs
    one pass over the ids in Rust, never a Python loop or a rebuilt hash set of everything seen.
    """

    def __init__(self) -> None:
        self.tiers: list[pl.DataFrame] = []

    def __len__(self) -> int:
        return sum(t.height for t in self.tiers)

    def repeated(self, ids: pl.Series) -> pl.Series:
        """True where ``ids`` holds an id taken in before."""
        if not self.tiers:
            return pl.Series(ids.name, [False] * len(ids), dtype=pl.Boolean)
        probe = pl.DataFrame({"search_id": ids.drop_nulls().unique()})
        hits = pl.concat([tier.join(probe, on="search_id", how="semi") for tier in self.tiers])
        return ids.is_in(hits.get_column("search_id").implode()).fill_null(False)

    def add(self, ids: pl.Series) -> None:
        self.tiers.append(pl.DataFrame({"search_id": ids}))
        while len(self.tiers) >= 2 and self.tiers[-1].height * 2 >= self.tiers[-2].height:
            last = self.tiers.pop()
            self.tiers[-1] = pl.concat([self.tiers[-1], last]).rechunk()


_USUAL_TS = "%Y-%m-%dT%H:%M:%SZ"


def timestamps(text: pl.Series) -> pl.Series:
    """:func:`parse_timestamps` over a column, with the usual form (``...T10:00:00Z``) read directly
    so only the other forms pay for the rewriting."""
    fast = text.str.to_datetime(_USUAL_TS, time_unit="us", time_zone="UTC", strict=False)
    other = fast.is_null() & text.is_not_null()
    if other.any():
        index = other.arg_true()
        parsed = text.gather(index).to_frame("ts").select(parse_timestamps("ts")).to_series()
        fast = fast.scatter(index, parsed)
    return fast


def _fold_ids(column: str) -> pl.Expr:
    return pl.col(column).list.eval(fold_id_expr(pl.element())).list.unique(maintain_order=True).alias(column)


def _with_ids_checked(frame: pl.DataFrame, limits: ReadLimits) -> pl.DataFrame:
    """``results`` and ``clicks`` folded and without repeats, and ``_id_problem`` where an id is bad.

    Most searches list only ids that are already folded, valid and distinct; one regular
    expression over each search's ids joined by newlines finds the others, and only those rows
    go through the per-id work.
    """
    both = pl.concat_list(pl.col("results").fill_null([]), pl.col("clicks"))
    odd = (both.list.join("\n").str.contains(unusual_ids_pattern(limits.max_id_chars))
           | (pl.col("results").list.n_unique() < pl.col("results").list.len())
           | (pl.col("clicks").list.n_unique() < pl.col("clicks").list.len())).fill_null(True)
    frame = frame.with_columns(odd.alias("_odd"))
    if not frame.get_column("_odd").any():
        return frame.with_columns(pl.lit(None, pl.String).alias("_id_problem")).drop("_odd")
    fixed = frame.filter(pl.col("_odd")).with_columns(_fold_ids("results"), _fold_ids("clicks"))
    fixed = fixed.with_columns(
        pl.coalesce(list_id_problem("results", limits), list_id_problem("clicks", limits)).alias("_id_problem"))
    clean = frame.filter(~pl.col("_odd")).with_columns(pl.lit(None, pl.String).alias("_id_problem"))
    return pl.concat([clean, fixed]).sort("_line").drop("_odd")


def finish(frame: pl.DataFrame, source: str, rejects: Rejects, seen: SeenIds,
           limits: ReadLimits = DEFAULT_LIMITS) -> pl.DataFrame:
    """Shared last step of every log reader: normalize, then reject what cannot be used.

    ``frame`` holds the raw columns (``ts`` as text or datetime) and ``_line``; ``seen`` collects
    search ids across the files of one command so a repeated id is rejected, not double counted.
    """
    if frame.schema["ts"] == pl.String:
        frame = frame.with_columns(pl.col("ts").alias("_ts_text"), timestamps(frame.get_column("ts")).alias("ts"))
    else:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("_ts_text"),
                                   pl.col("ts").dt.convert_time_zone("UTC").dt.cast_time_unit("us"))
    frame = frame.with_columns(pl.col("search_id").str.strip_chars(), pl.col("clicks").fill_null([]))
    frame = _with_ids_checked(frame, limits)
    checks = [
        (pl.col("search_id").is_null() | (pl.col("search_id").str.len_chars() == 0), "search_id: missing"),
        (pl.col("search_id").str.len_chars() > limits.max_id_chars,
         f"search_id: longer than {limits.max_id_chars} characters (MATCHGRAPH_MAX_ID_CHARS)"),
        (pl.col("_ts_text").is_null() & pl.col("ts").is_null(), "ts: missing"),
        (pl.col("ts").is_null(), "ts: not an ISO 8601 timestamp (such as 2026-01-20T10:00:00Z or 2026-01-20)"),
        *ts_window_checks(pl.col("ts"), limits, "ts"),
        (pl.col("query").is_null(), "query: missing"),
        (pl.col("query").str.len_chars() > limits.max_field_chars,
         f"query: longer than {limits.max_field_chars} characters (MATCHGRAPH_MAX_FIELD_CHARS)"),
        (pl.col("results").is_null() | (pl.col("results").list.len() == 0), "results: missing or empty"),
        (pl.col("results").list.len() > limits.max_results,
         f"results: more than {limits.max_results} ids (MATCHGRAPH_MAX_RESULTS)"),
        (pl.col("clicks").list.len() > limits.max_results,
         f"clicks: more than {limits.max_results} ids (MATCHGRAPH_MAX_RESULTS)"),
        (pl.col("session_id").str.len_chars() > limits.max_name_chars,
         f"session_id: longer than {limits.max_name_chars} characters (MATCHGRAPH_MAX_NAME_CHARS)"),
    ]
    reason = pl.col("_id_problem")
    for condition, text in reversed(checks):
        reason = pl.when(condition.fill_null(False)).then(pl.lit(text)).otherwise(reason)
    frame = frame.with_columns(reason.alias("_reason"))
    first = pl.col("search_id").is_first_distinct().over(pl.col("_reason").is_null())  # among usable records
    if len(seen):
        first = first & ~pl.lit(seen.repeated(frame.get_column("search_id")))
    frame = frame.with_columns(
        pl.when(pl.col("_reason").is_null() & ~first)
        .then(pl.lit("search_id: duplicate of an earlier record in this input"))
        .otherwise(pl.col("_reason"))
        .alias("_reason")
    )
    bad = frame.filter(pl.col("_reason").is_not_null())
    if bad.height:
        raw_text = pl.col("_raw") if "_raw" in frame.columns else pl.struct(
            pl.exclude("_line", "_reason", "_ts_text", "_id_problem")).struct.json_encode()
        for line, why, raw in bad.select("_line", "_reason", raw_text).iter_rows():
            rejects.add(source, line, why, raw)
        frame = frame.filter(pl.col("_reason").is_null())
    seen.add(frame.get_column("search_id"))
    return frame.select([pl.col(c).cast(t) for c, t in SEARCH_SCHEMA.items()])


def detect_log_format(path: Path) -> str:
    """``parquet``, ``ubi`` (OpenSearch User Behavior Insights), ``native-csv`` or ``native-jsonl``.

    UBI is a first line that is a ``_bulk`` action, or a document with a ``query_id`` and an
    ``action_name`` or ``user_query`` but no native ``search_id``.
    """
    start = head(path, 65536)
    if start.startswith(PARQUET_MAGIC):
        return "parquet"
    first = next((line.strip() for line in start.split(b"\n") if line.strip()), b"")
    if not first.startswith((b"{", b"[")) and {b"search_id", b"results"} <= set(_csv_header(first)):
        return "native-csv"
    return "ubi" if _looks_like_ubi(first) else "native-jsonl"


def _csv_header(line: bytes) -> list[bytes]:
    return [cell.strip().strip(b'"') for cell in line.split(b",")]


def _looks_like_ubi(line: bytes) -> bool:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # a line longer than the head: judge by the field names it shows
        return (b'"query_id"' in line and b'"search_id"' not in line
                and (b'"action_name"' in line or b'"user_query"' in line))
    if not isinstance(obj, dict):
        return False
    if len(obj) == 1 and isinstance(action := next(iter(obj.values())), dict) and "_index" in action:
        return next(iter(obj)) in ("index", "create")
    return "query_id" in obj and "search_id" not in obj and ("action_name" in obj or "user_query" in obj)


def read_native_jsonl(path: Path, rejects: Rejects, seen: SeenIds, chunk_lines: int = CHUNK_LINES,
                      limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[pl.DataFrame]:
    source = str(path)
    for first, lines in iter_line_chunks(path, chunk_lines, rejects, limits):
        raw = _DECODER.chunk(source, first, lines, rejects)
        if raw.height:
            good = finish(raw, source, rejects, seen, limits)
            if good.height:
                yield good


CSV_COLUMNS = ("search_id", "ts", "query", "results", "clicks", "session_id")


def read_native_csv(path: Path, rejects: Rejects, seen: SeenIds, chunk_lines: int = CHUNK_LINES,
                    limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[pl.DataFrame]:
    """Native logs as CSV with a header; ``results`` and ``clicks`` hold ``;``-separated ids.

    One line is one record; a row with fewer fields than the header ends in empty fields. A chunk
    that polars cannot split (a row with too many fields, a broken quote, bytes that are not UTF-8)
    is read again row by row with the ``csv`` module, so only the bad rows are rejected.
    """
    source = str(path)
    chunks = iter_line_chunks(path, chunk_lines, rejects, limits)
    header: list[str] | None = None
    for first, lines in chunks:
        if header is None:
            start = next((i for i, line in enumerate(lines) if line.strip()), None)
            if start is None:
                continue
            header = _header(path, lines[start])
            first, lines = first + start + 1, lines[start + 1:]
        frame = _csv_chunk(source, header, first, lines, rejects)
        if frame.height:
            good = finish(frame, source, rejects, seen, limits)
            if good.height:
                yield good


def _header(path: Path, line: bytes) -> list[str]:
    try:
        header = [c.strip() for c in next(csv.reader([line.decode("utf-8")]))]
    except (UnicodeDecodeError, csv.Error, StopIteration) as e:
        raise BadFile(path, f"the CSV header cannot be read: {e}") from e
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadFile(path, f"the CSV search log lacks the columns {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise BadFile(path, "the CSV header names a column twice")
    return header


def _csv_chunk(source: str, header: list[str], first: int, lines: list[bytes], rejects: Rejects) -> pl.DataFrame:
    """One chunk of CSV lines as raw columns; polars splits them unless a row needs the ``csv`` module."""
    schema = dict.fromkeys(header, pl.String())
    frame: pl.DataFrame | None = None
    try:
        raw = pl.read_csv(b"\n".join(lines), has_header=False, schema=schema, encoding="utf8",
                          truncate_ragged_lines=False)
        if raw.height == len(lines):  # one row per line: no blank line skipped, no quoted line break
            frame = raw.with_columns(
                pl.int_range(first, first + len(lines), dtype=pl.Int64, eager=True).alias("_line"),
                pl.Series("_raw", lines, dtype=pl.Binary).cast(pl.String),
            ).filter(pl.col("_raw").str.contains(NOT_BLANK))
    except POLARS_FAILURES:  # polars also takes bytes that start like gzip for gzip
        frame = None
    if frame is None:
        frame = _csv_by_hand(source, header, [(first + i, line) for i, line in enumerate(lines) if line.strip()],
                             rejects)
    for column in CSV_COLUMNS:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    empty = [pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c)
             for c in ("search_id", "ts", "session_id")]
    return _split_ids(frame.select(*empty, "query", "results", "clicks", "_line", "_raw"))


def _split_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """``results`` and ``clicks`` from ``;``-separated text to lists; spaces and empty items are
    dropped, which only costs a pass over the ids in a chunk that has any."""
    untidy = pl.any_horizontal(pl.col(c).str.contains(r"\s|;;|^;|;$") for c in ("results", "clicks"))
    tidy = bool(frame.select(untidy.fill_null(False).any()).item())
    ids = []
    for column in ("results", "clicks"):
        text = pl.col(column).fill_null("")
        items = text.str.split(";")
        if tidy:
            items = items.list.eval(pl.element().str.strip_chars()).list.filter(pl.element() != "")
        ids.append(pl.when(text == "").then(pl.lit([], pl.List(pl.String))).otherwise(items).alias(column))
    return frame.with_columns(ids)


def _csv_by_hand(source: str, header: list[str], numbered: list[tuple[int, bytes]],
                 rejects: Rejects) -> pl.DataFrame:
    rows, kept = [], []
    for line_no, line in numbered:
        try:
            text = line.decode("utf-8")
            cells = next(csv.reader(io.StringIO(text)))
        except UnicodeDecodeError as e:
            rejects.add(source, line_no, f"malformed CSV row: invalid UTF-8 at byte {e.start}", line)
            continue
        except (csv.Error, StopIteration) as e:
            rejects.add(source, line_no, f"malformed CSV row: {e}", line)
            continue
        if len(cells) > len(header):
            rejects.add(source, line_no, f"malformed CSV row: {len(cells)} fields, expected {len(header)}", line)
            continue
        rows.append(cells + [None] * (len(header) - len(cells)))  # a short row ends in empty fields, as polars reads it
        kept.append((line_no, text))
    return pl.DataFrame(rows, schema=dict.fromkeys(header, pl.String()), orient="row").with_columns(
        pl.Series("_line", [n for n, _ in kept], dtype=pl.Int64), pl.Series("_raw", [t for _, t in kept],
                                                                            dtype=pl.String))


_PARQUET_KINDS = {
    "search_id": "text", "ts": "time", "query": "text", "results": "ids", "clicks": "ids", "session_id": "text",
}


def _parquet_column(name: str, dtype: pl.DataType, path: Path) -> pl.Expr:
    """A Parquet column in the reader's raw form, cast value by value (a failed cast is a null that
    :func:`finish` rejects); a column that holds no such values at all makes the file unusable."""
    kind = _PARQUET_KINDS[name]
    col = pl.col(name)
    if kind == "time":
        if isinstance(dtype, pl.Datetime):
            return col.dt.replace_time_zone("UTC") if dtype.time_zone is None else col
        if isinstance(dtype, pl.Date):
            return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
            return col.cast(pl.String)  # parsed by finish, which tells missing from malformed
        raise BadFile(path, f"the Parquet column ts is {dtype}, not a timestamp or ISO 8601 text")
    if kind == "ids":
        if isinstance(dtype, pl.List | pl.Array) and _castable_to_text(dtype.inner):
            return col.cast(pl.List(pl.String), strict=False)
        if dtype in (pl.String, pl.Categorical):
            return col.cast(pl.String).str.split(";").list.eval(pl.element().str.strip_chars()).list.filter(
                pl.element() != "")
        raise BadFile(path, f"the Parquet column {name} is {dtype}, not a list of ids")
    if _castable_to_text(dtype):
        return col.cast(pl.String, strict=False)
    raise BadFile(path, f"the Parquet column {name} is {dtype}, not text")


def _castable_to_text(dtype: PolarsDataType) -> bool:
    """Text, or values with one obvious text form (numbers, raw bytes): a cast that can fail per value."""
    return bool(dtype in (pl.String, pl.Categorical, pl.Null, pl.Binary) or isinstance(dtype, pl.Enum)
                or dtype.is_numeric())


def read_native_parquet(path: Path, rejects: Rejects, seen: SeenIds, chunk_lines: int = CHUNK_LINES,
                        limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[pl.DataFrame]:
    """Native logs as Parquet; record numbers are 1-based row numbers."""
    source = str(path)
    plain = head(path, 4).startswith(PARQUET_MAGIC)  # read in place; a compressed one is unpacked first
    try:
        data = pl.read_parquet(path if plain else io.BytesIO(read_content(path, limits).data))
    except POLARS_FAILURES as e:
        raise BadFile(path, f"cannot be read as Parquet: {first_line(e)}") from e
    missing = [c for c in REQUIRED if c not in data.columns]
    if missing:
        raise BadFile(path, f"the Parquet search log lacks the columns {', '.join(missing)}")
    cols = [_parquet_column(name, data.schema[name], path).alias(name) if name in data.columns
            else pl.lit(None, pl.List(pl.String) if _PARQUET_KINDS[name] == "ids" else pl.String).alias(name)
            for name in CSV_COLUMNS]
    for offset in range(0, data.height, chunk_lines):
        try:
            frame = data.slice(offset, chunk_lines).select(cols).with_row_index("_line", offset=offset + 1)
        except POLARS_FAILURES as e:
            raise BadFile(path, f"a Parquet column cannot be used: {first_line(e)}") from e
        good = finish(frame.with_columns(pl.col("_line").cast(pl.Int64)), source, rejects, seen, limits)
        if good.height:
            yield good


LOG_FORMATS = ("native-jsonl", "native-csv", "parquet", "ubi")


def read_logs(path: Path, rejects: Rejects, seen: SeenIds, fmt: str | None = None,
              chunk_lines: int = CHUNK_LINES, limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[pl.DataFrame]:
    """Frames of valid searches from one log file, in chunks; rejects go to ``rejects``.

    A file that cannot be used at all raises :class:`graph.errors.BadFile` (when the first frame is
    asked for); a file with nothing valid yields nothing and leaves its rejects.
    """
    fmt = fmt or detect_log_format(path)
    if fmt == "parquet":
        return read_native_parquet(path, rejects, seen, chunk_lines, limits)
    if fmt == "ubi":
        from ingest.ubi import read_ubi  # ingest.ubi builds on this module

        return read_ubi(path, rejects, seen, chunk_lines, limits)
    if fmt == "native-csv":
        return read_native_csv(path, rejects, seen, chunk_lines, limits)
    if fmt != "native-jsonl":
        raise unknown_format("log", fmt, ", ".join(LOG_FORMATS))
    return read_native_jsonl(path, rejects, seen, chunk_lines, limits)
