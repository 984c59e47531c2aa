"""Decoding JSON lines in bulk: polars decodes whole chunks, Python looks only at the lines it must.

A reader describes the fields it takes with a small :data:`Kind` tree (a string, an id that may be
a JSON integer, an integer, a list, an object). From it come both the polars dtype that decodes a
chunk at once and a strict per-line check for the few lines the fast path cannot vouch for:

* polars turns a JSON number or boolean into text when a string is expected (``"query": 7`` would
  become ``"7"``) and a lone string into a one-item list, silently. Lines where a field of the tree
  holds something other than what it should are therefore picked out first, with one vectorized
  regular expression per chunk, and checked by hand. The expression may pick a line that is fine
  (a nested key with the same name), never one where polars would convert a value silently;
* polars refuses a whole chunk when one line is not JSON, is not an object, holds a number it
  cannot represent (``1e400``, an integer of 40 digits) or nests too deeply: the chunk is then
  split in halves until the lines it refuses are found, and only those are checked by hand;
* lines that are not UTF-8 are found by decoding the whole chunk once (line by line only when
  that fails).

The check by hand (:func:`conform`) parses one line with ``json`` and applies the tree strictly:
it gives the precise reason for a reject, or the line's values for the lines polars could not
decode (an integer id of 40 digits is a fine id). Clean input never runs a Python loop per line.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from ingest.files import POLARS_FAILURES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ingest.rejects import Rejects

INT64_MAX = 2**63 - 1
NOT_BLANK = r"[^ \t\r\n\x0b\x0c]"
"""A line with anything but ASCII white space on it (a regex test: no trimmed copy of every line)."""
_BY_HAND_BELOW = 32
"""A refused part of a chunk this small is checked line by line instead of being halved again."""
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Str:
    """A JSON string."""


@dataclass(frozen=True)
class Ident:
    """A JSON string, or a JSON integer taken as its decimal text (UBI object ids may be numbers)."""


@dataclass(frozen=True)
class Int:
    """A JSON integer that fits 64 bits."""


@dataclass(frozen=True)
class ListOf:
    item: Kind


@dataclass(frozen=True)
class Obj:
    fields: Mapping[str, Kind]


Kind = Str | Ident | Int | ListOf | Obj


def dtype_of(kind: Kind) -> pl.DataType:
    if isinstance(kind, Str | Ident):
        return pl.String()
    if isinstance(kind, Int):
        return pl.Int64()
    if isinstance(kind, ListOf):
        return pl.List(dtype_of(kind.item))
    return pl.Struct({name: dtype_of(k) for name, k in kind.fields.items()})


def _describe(value: object) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    text = repr(value)
    return f"the number {text if len(text) <= 40 else text[:37] + '...'}"


class Mismatch(ValueError):
    """A value of the wrong kind at a field path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'record'}: {message}")


def conform(value: object, kind: Kind, path: str = "") -> Any:
    """``value`` (from ``json.loads``) as polars would hold it under ``dtype_of(kind)``, or :class:`Mismatch`."""
    if value is None:
        return None
    if isinstance(kind, Str | Ident):
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise Mismatch(path, "holds an unpaired UTF-16 surrogate escape, which is not text")
            return value
        if isinstance(kind, Ident) and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise Mismatch(path, f"expected a string{' or an integer' if isinstance(kind, Ident) else ''}, "
                             f"got {_describe(value)}")
    if isinstance(kind, Int):
        if isinstance(value, int) and not isinstance(value, bool):
            if -INT64_MAX - 1 <= value <= INT64_MAX:
                return value
            raise Mismatch(path, "an integer too large to use")
        raise Mismatch(path, f"expected an integer, got {_describe(value)}")
    if isinstance(kind, ListOf):
        if not isinstance(value, list):
            raise Mismatch(path, f"expected an array, got {_describe(value)}")
        items = []
        for index, item in enumerate(value):
            where = f"{path}.{index}" if path else str(index)
            if item is None:
                raise Mismatch(where, "null in an array")
            items.append(conform(item, kind.item, where))
        return items
    if not isinstance(value, dict):
        raise Mismatch(path, f"expected an object, got {_describe(value)}")
    return {name: conform(value.get(name), sub, f"{path}.{name}" if path else name)
            for name, sub in kind.fields.items()}


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def parse_line(raw: bytes) -> tuple[Any, str | None]:
    """A line's JSON value, or the reason it is not JSON (never an exception)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"invalid UTF-8 at byte {e.start}"
    try:
        return json.loads(text.removeprefix("\ufeff"), parse_constant=_reject_constant), None
    except RecursionError:
        return None, "not valid JSON: nested too deeply"
    except ValueError as e:
        return None, f"not valid JSON: {e}"


def has_nonfinite(value: object, depth: int = 0) -> bool:
    """Whether a parsed JSON value holds a number that is not finite (``1e400`` parses to infinity)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if depth > 200:
        return False
    if isinstance(value, dict):
        return any(has_nonfinite(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(has_nonfinite(v, depth + 1) for v in value)
    return False


def _suspect_pattern(kind: Obj) -> str:
    """Lines where a field may hold a value polars would convert silently (see the module doc)."""
    text_keys: list[str] = []
    list_keys: list[str] = []
    text_item_keys: list[str] = []
    int_keys: list[str] = []

    def walk(obj: Obj) -> None:
        for name, sub in obj.fields.items():
            key = re.escape(name)
            if isinstance(sub, Str | Ident):
                text_keys.append(key)
            elif isinstance(sub, Int):
                int_keys.append(key)
            elif isinstance(sub, ListOf):
                list_keys.append(key)
                if isinstance(sub.item, Str | Ident):
                    text_item_keys.append(key)
                elif isinstance(sub.item, Obj):
                    walk(sub.item)
            else:
                walk(sub)

    walk(kind)
    at = r'[{,]\s*"(?:%s)"\s*:\s*'
    parts = [r"\\u[dD][89abAB]"]  # surrogate escapes: polars decodes a lone one to U+0000
    if text_keys:
        parts.append(at % "|".join(text_keys) + r'[^"n\s]')
    if int_keys:
        parts.append(at % "|".join(int_keys) + r"(?:[^-0-9n\s]|-?[0-9]+[.eE])")
    if list_keys:
        parts.append(at % "|".join(list_keys) + r"[^\[n\s]")
    if text_item_keys:
        parts.append(at % "|".join(text_item_keys) + r'\[\s*(?:[^"\s\]]|[^\]]*?,\s*[^"\s\]])')
    return "|".join(f"(?:{p})" for p in parts)


def _not_utf8(lines: list[bytes]) -> list[int]:
    """Positions of the lines that are not UTF-8; one check of the whole chunk when all are."""
    try:
        b"\n".join(lines).decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return []
    bad = []
    for index, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(index)
    return bad


class LineDecoder:
    """Decodes chunks of JSON lines into the columns of an :class:`Obj` tree, rejecting bad lines."""

    def __init__(self, kind: Obj) -> None:
        self.kind = kind
        self.dtype = dtype_of(kind)
        self.suspect = _suspect_pattern(kind)
        self.schema = {"_raw": pl.String(), "_line": pl.Int64(), **dict(self.dtype)}  # type: ignore[call-overload]

    def chunk(self, source: str, first_line: int, lines: list[bytes], rejects: Rejects) -> pl.DataFrame:
        """The decoded lines as a frame of the tree's fields plus ``_raw`` and ``_line``, in line order."""
        if not lines:
            return pl.DataFrame(schema=self.schema)
        not_text = _not_utf8(lines)
        if not_text:  # kept as blanks in the frame, checked by hand below
            blanked = set(not_text)
            binary = pl.Series("_raw", [b"" if i in blanked else line for i, line in enumerate(lines)], dtype=pl.Binary)
        else:
            binary = pl.Series("_raw", lines, dtype=pl.Binary)
        frame = pl.DataFrame({
            "_raw": binary.cast(pl.String),
            "_line": pl.int_range(first_line, first_line + len(lines), dtype=pl.Int64, eager=True),
        })
        hand = pl.col("_raw").str.contains(self.suspect)
        if not_text:
            hand = hand | pl.col("_line").is_in([first_line + i for i in not_text])
        frame = frame.with_columns(hand.alias("_hand"))
        frame = frame.filter(pl.col("_hand") | pl.col("_raw").str.contains(NOT_BLANK))
        fast, refused = self._decode(frame.filter(~pl.col("_hand")).drop("_hand"))
        slow = sorted([*frame.filter(pl.col("_hand")).get_column("_line").to_list(), *refused])
        if not slow:
            return fast
        hand_rows = self._by_hand(source, [(n, lines[n - first_line]) for n in slow], rejects)
        return pl.concat([fast, hand_rows]).sort("_line")

    def _decode(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[int]]:
        """Decoded rows, and the numbers of lines polars refused (found by halving the chunk)."""
        try:
            decoded = frame.with_columns(pl.col("_raw").str.json_decode(self.dtype).alias("_rec")).unnest("_rec")
            return decoded.select(list(self.schema)), []
        except POLARS_FAILURES:
            if frame.height <= _BY_HAND_BELOW:
                return pl.DataFrame(schema=self.schema), frame.get_column("_line").to_list()
        half = frame.height // 2
        left, bad_left = self._decode(frame.slice(0, half))
        right, bad_right = self._decode(frame.slice(half))
        return pl.concat([left, right]), bad_left + bad_right

    def _by_hand(self, source: str, numbered: list[tuple[int, bytes]], rejects: Rejects) -> pl.DataFrame:
        rows = []
        for number, raw in numbered:
            value, problem = parse_line(raw)
            if problem is None and not isinstance(value, dict):
                problem = f"not a JSON object but {_describe(value)}"
            if problem is None and has_nonfinite(value):
                problem = "not valid JSON: a number too large to represent (or NaN / Infinity)"
            if problem is None:
                try:
                    row = conform(value, self.kind)
                except Mismatch as e:
                    problem = str(e)
                except RecursionError:
                    problem = "nested too deeply"
            if problem is not None:
                rejects.add(source, number, problem, raw)
                continue
            row["_raw"] = raw.decode("utf-8")
            row["_line"] = number
            rows.append(row)
        return pl.DataFrame(rows, schema=self.schema) if rows else pl.DataFrame(schema=self.schema)


def error_text(error: Exception) -> str:
    """A pydantic validation error (or any error) as a short reject reason: ``field: message; ...``."""
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        parts = []
        for item in error.errors()[:3]:
            loc = ".".join(str(p) for p in item["loc"]) or "record"
            parts.append(f"{loc}: {item['msg']}")
        return "; ".join(parts)
    return str(error)
