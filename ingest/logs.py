"""Search logs in the native format (JSON lines or Parquet), validated into one frame of searches.

A native search record::

    {"search_id": "s1", "ts": "2026-01-02T03:04:05Z", "query": "text to image",
     "results": ["flux-1-pro", "dalle-3"], "clicks": ["flux-1-pro"], "session_id": "u9"}

``search_id``, ``ts``, ``query`` and ``results`` are required. Every reader yields frames with the
columns of :data:`SEARCH_SCHEMA`; ids are lower-cased, duplicated ids inside one result list keep
their first position, and a ``search_id`` seen before in the same command is rejected.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ingest.files import PARQUET_MAGIC, head, iter_line_chunks, open_decompressed
from ingest.jsonl import LineValidator

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ingest.rejects import Rejects

MAX_RESULTS = 200
MAX_TEXT = 10_000
CHUNK_LINES = 100_000

ArtifactRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")]

SEARCH_SCHEMA: dict[str, pl.DataType] = {
    "search_id": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "query": pl.String(),
    "results": pl.List(pl.String()),
    "clicks": pl.List(pl.String()),
    "session_id": pl.String(),
}


class NativeSearch(BaseModel):
    """One search in the native log format (validation only; polars decodes the data)."""

    model_config = ConfigDict(extra="ignore")

    search_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | int
    ts: datetime
    query: Annotated[str, StringConstraints(max_length=MAX_TEXT)]
    results: list[ArtifactRef] = Field(min_length=1, max_length=MAX_RESULTS)
    clicks: list[ArtifactRef] = Field(default_factory=list, max_length=MAX_RESULTS)
    session_id: Annotated[str, StringConstraints(max_length=200)] | int | None = None


_NATIVE_DTYPE = pl.Struct(
    {
        "search_id": pl.String,
        "ts": pl.String,
        "query": pl.String,
        "results": pl.List(pl.String),
        "clicks": pl.List(pl.String),
        "session_id": pl.String,
    }
)
_VALIDATOR = LineValidator(NativeSearch, _NATIVE_DTYPE)
_ID_OK = r"^[a-z0-9][a-z0-9._-]{0,199}$"


def parse_timestamps(column: str) -> pl.Expr:
    """ISO 8601 text to UTC datetimes: offsets are honoured, naive times are taken as UTC."""
    text = pl.col(column).str.strip_chars().str.replace(" ", "T", literal=True)
    aware = text.str.to_datetime(time_zone="UTC", strict=False)
    naive = text.str.to_datetime(time_unit="us", strict=False).dt.replace_time_zone("UTC")
    return pl.coalesce(aware, naive).dt.cast_time_unit("us")


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


def finish(frame: pl.DataFrame, source: str, rejects: Rejects, seen: SeenIds) -> pl.DataFrame:
    """Shared last step of every log reader: normalize, then reject what cannot be used.

    ``frame`` holds the raw columns (``ts`` as text or datetime) and ``_line``; ``seen`` collects
    search ids across the files of one command so a repeated id is rejected, not double counted.
    """
    ts = parse_timestamps("ts") if frame.schema["ts"] == pl.String else pl.col("ts").dt.replace_time_zone("UTC")
    frame = frame.with_columns(
        ts.alias("ts"),
        pl.col("results").list.eval(pl.element().str.to_lowercase()).list.unique(maintain_order=True),
        pl.col("clicks").fill_null([]).list.eval(pl.element().str.to_lowercase()).list.unique(maintain_order=True),
    )
    checks = [
        (pl.col("search_id").is_null() | (pl.col("search_id").str.len_chars() == 0), "search_id: missing"),
        (pl.col("ts").is_null(), "ts: missing or not an ISO 8601 timestamp"),
        (pl.col("query").is_null(), "query: missing"),
        (pl.col("query").str.len_chars() > MAX_TEXT, f"query: longer than {MAX_TEXT} characters"),
        (pl.col("results").is_null() | (pl.col("results").list.len() == 0), "results: missing or empty"),
        (pl.col("results").list.len() > MAX_RESULTS, f"results: more than {MAX_RESULTS} ids"),
        (
            ~pl.col("results").list.eval(pl.element().str.contains(_ID_OK)).list.all().fill_null(False),
            "results: holds a value that is not an artifact id",
        ),
        (
            ~pl.col("clicks").list.eval(pl.element().str.contains(_ID_OK)).list.all().fill_null(True),
            "clicks: holds a value that is not an artifact id",
        ),
    ]
    reason = pl.lit(None, dtype=pl.String)
    for condition, text in reversed(checks):
        reason = pl.when(condition.fill_null(True)).then(pl.lit(text)).otherwise(reason)
    frame = frame.with_columns(reason.alias("_reason"))
    frame = frame.with_columns(
        pl.when(pl.col("_reason").is_null() & ~pl.col("search_id").is_first_distinct())
        .then(pl.lit("search_id: duplicate of an earlier record in this input"))
        .otherwise(pl.col("_reason"))
        .alias("_reason")
    )
    if len(seen):
        frame = frame.with_columns(
            pl.when(pl.col("_reason").is_null() & seen.repeated(frame.get_column("search_id")))
            .then(pl.lit("search_id: duplicate of an earlier record in this input"))
            .otherwise(pl.col("_reason"))
            .alias("_reason")
        )
    bad = frame.filter(pl.col("_reason").is_not_null())
    raw_text = pl.col("_raw") if "_raw" in frame.columns else pl.struct(
        pl.exclude("_line", "_reason")).struct.json_encode()
    for line, why, raw in bad.select("_line", "_reason", raw_text).iter_rows():
        rejects.add(source, line, why, raw)
    good = frame.filter(pl.col("_reason").is_null())
    seen.add(good.get_column("search_id"))
    return good.select([pl.col(c).cast(t) for c, t in SEARCH_SCHEMA.items()])


def detect_log_format(path: Path) -> str:
    """``parquet``, ``ubi`` (OpenSearch User Behavior Insights) or ``native-jsonl``, from the start.

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
    except ValueError:  # a line longer than the head: judge by the field names it shows
        return (b'"query_id"' in line and b'"search_id"' not in line
                and (b'"action_name"' in line or b'"user_query"' in line))
    if not isinstance(obj, dict):
        return False
    if len(obj) == 1 and isinstance(action := next(iter(obj.values())), dict) and "_index" in action:
        return next(iter(obj)) in ("index", "create")
    return "query_id" in obj and "search_id" not in obj and ("action_name" in obj or "user_query" in obj)


def read_native_jsonl(path: Path, rejects: Rejects, seen: SeenIds,
                      chunk_lines: int = CHUNK_LINES) -> Iterator[pl.DataFrame]:
    source = str(path)
    with open_decompressed(path) as stream:
        for first, lines in iter_line_chunks(stream, chunk_lines):
            raw = _VALIDATOR.chunk(source, first, lines, rejects)
            if raw.height:
                yield finish(raw, source, rejects, seen)


CSV_COLUMNS = ("search_id", "ts", "query", "results", "clicks", "session_id")


def read_native_csv(path: Path, rejects: Rejects, seen: SeenIds,
                    chunk_lines: int = CHUNK_LINES) -> Iterator[pl.DataFrame]:
    """Native logs as CSV with a header; ``results`` and ``clicks`` hold ``;``-separated ids.

    A chunk that polars cannot parse (a ragged row, a broken quote) is read again row by row with
    the ``csv`` module, so only the bad rows are rejected.
    """
    source = str(path)
    with open_decompressed(path) as stream:
        chunks = iter_line_chunks(stream, chunk_lines)
        try:
            _, first_lines = next(chunks)
        except StopIteration:
            return
        header_line, *body = first_lines
        header = [c.decode("utf-8", "replace") for c in _csv_header(header_line)]
        missing = [c for c in ("search_id", "ts", "query", "results") if c not in header]
        if missing:
            from graph.errors import InvalidInput

            raise InvalidInput(f"{path}: CSV search log lacks the columns {', '.join(missing)}")
        pending = [(2, body)] if body else []
        for first, lines in (*pending, *chunks):
            frame = _csv_chunk(source, header_line, header, first, lines, rejects)
            if frame.height:
                yield finish(frame, source, rejects, seen)


def _csv_chunk(source: str, header_line: bytes, header: list[str], first: int, lines: list[bytes],
               rejects: Rejects) -> pl.DataFrame:
    numbered = [(first + i, line) for i, line in enumerate(lines) if line.strip()]
    try:
        raw = pl.read_csv(b"\n".join([header_line, *(line for _, line in numbered)]), infer_schema=False)
        if raw.height != len(numbered):
            raise pl.exceptions.ComputeError("row count differs from line count")
        frame = raw.with_columns(pl.Series("_line", [n for n, _ in numbered], dtype=pl.Int64),
                                 pl.Series("_raw", [line for _, line in numbered], dtype=pl.Binary)
                                 .cast(pl.String, strict=False))
    except pl.exceptions.PolarsError:
        rows, kept = [], []
        for line_no, line in numbered:
            try:
                text = line.decode("utf-8")
                cells = next(csv.reader([text]))
            except (UnicodeDecodeError, csv.Error, StopIteration) as e:
                rejects.add(source, line_no, f"malformed CSV row: {e}", line)
                continue
            if len(cells) != len(header):
                rejects.add(source, line_no, f"malformed CSV row: {len(cells)} fields, expected {len(header)}", line)
                continue
            rows.append(dict(zip(header, cells, strict=True)))
            kept.append((line_no, text))
        frame = pl.DataFrame(rows, schema=dict.fromkeys(header, pl.String)).with_columns(
            pl.Series("_line", [n for n, _ in kept], dtype=pl.Int64), pl.Series("_raw", [t for _, t in kept]))
    for column in CSV_COLUMNS:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    ids = [pl.col(c).fill_null("").str.split(";").list.eval(pl.element().str.strip_chars())
           .list.filter(pl.element() != "").alias(c) for c in ("results", "clicks")]
    return frame.select(*(c for c in CSV_COLUMNS if c not in ("results", "clicks")), *ids, "_line", "_raw")


def read_native_parquet(path: Path, rejects: Rejects, seen: SeenIds,
                        chunk_lines: int = CHUNK_LINES) -> Iterator[pl.DataFrame]:
    source = str(path)
    lazy = pl.scan_parquet(path)
    names = lazy.collect_schema().names()
    missing = [c for c in ("search_id", "ts", "query", "results") if c not in names]
    if missing:
        from graph.errors import InvalidInput

        raise InvalidInput(f"{path}: Parquet search log lacks the columns {', '.join(missing)}")
    total = lazy.select(pl.len()).collect().item()
    for offset in range(0, total, chunk_lines):
        chunk = lazy.slice(offset, chunk_lines).collect()
        cols = [
            pl.col("search_id").cast(pl.String),
            pl.col("ts"),
            pl.col("query").cast(pl.String),
            pl.col("results").cast(pl.List(pl.String)),
            (pl.col("clicks").cast(pl.List(pl.String)) if "clicks" in names else pl.lit(None, pl.List(pl.String)))
            .alias("clicks"),
            (pl.col("session_id").cast(pl.String) if "session_id" in names else pl.lit(None, pl.String))
            .alias("session_id"),
        ]
        frame = chunk.select(cols).with_row_index("_line", offset=offset + 1)
        frame = frame.with_columns(pl.col("_line").cast(pl.Int64))
        yield finish(frame, source, rejects, seen)


def read_logs(path: Path, rejects: Rejects, seen: SeenIds, fmt: str | None = None,
              chunk_lines: int = CHUNK_LINES) -> Iterator[pl.DataFrame]:
    """Frames of valid searches from one log file, in chunks; rejects go to ``rejects``."""
    fmt = fmt or detect_log_format(path)
    if fmt == "parquet":
        return read_native_parquet(path, rejects, seen, chunk_lines)
    if fmt == "ubi":
        from ingest.ubi import read_ubi  # ingest.ubi builds on this module

        return read_ubi(path, rejects, seen, chunk_lines)
    if fmt == "native-csv":
        return read_native_csv(path, rejects, seen, chunk_lines)
    if fmt != "native-jsonl":
        from graph.errors import InvalidInput

        raise InvalidInput(f"unknown log format {fmt!r}: use native-jsonl, native-csv, parquet or ubi")
    return read_native_jsonl(path, rejects, seen, chunk_lines)
