"""Validating JSON lines in bulk: pydantic (in Rust) finds the bad records, polars decodes the good.

Per chunk, the fast path validates all lines as one JSON array with a strict pydantic model, which
reports every field error with its index, and then decodes the valid lines with polars into typed
columns. Only a chunk that holds a line that is not JSON at all (or not UTF-8) falls back to
checking its lines one by one, so clean input never runs a Python loop per record.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import polars as pl
from pydantic import BaseModel, TypeAdapter, ValidationError

if TYPE_CHECKING:
    from ingest.rejects import Rejects


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _error_text(error: ValidationError | Exception) -> str:
    if isinstance(error, ValidationError):
        parts = []
        for item in error.errors()[:3]:
            loc = ".".join(str(p) for p in item["loc"]) or "record"
            parts.append(f"{loc}: {item['msg']}")
        return "; ".join(parts)
    return str(error)


def _index_errors(error: ValidationError) -> tuple[dict[int, str], bool]:
    """Map of array index -> reason, and whether any error was a JSON syntax error."""
    reasons: dict[int, list[str]] = {}
    syntax = False
    for item in error.errors():
        loc = item["loc"]
        if item["type"] == "json_invalid" or not loc or not isinstance(loc[0], int):
            syntax = True
            continue
        field = ".".join(str(p) for p in loc[1:]) or "record"
        reasons.setdefault(loc[0], []).append(f"{field}: {item['msg']}")
    return {i: "; ".join(r[:3]) for i, r in reasons.items()}, syntax


class LineValidator:
    """Validates chunks of JSON lines against ``model`` and decodes them to ``dtype`` columns."""

    def __init__(self, model: type[BaseModel], dtype: pl.Struct) -> None:
        self.model = model
        self.many: TypeAdapter[list[Any]] = TypeAdapter(list[model])  # type: ignore[valid-type]
        self.dtype = dtype

    def chunk(self, source: str, first_line: int, lines: list[bytes], rejects: Rejects) -> pl.DataFrame:
        """Valid records of ``lines`` as a frame with the struct's fields, ``_raw`` and ``_line``."""
        numbered = [(first_line + i, line) for i, line in enumerate(lines) if line.strip()]
        if not numbered:
            return self._decode([], [])
        mark = len(rejects)
        try:
            b"\n".join(line for _, line in numbered).decode("utf-8")
            good = self._fast(source, numbered, rejects)
            return self._decode([n for n, _ in good], [line for _, line in good])
        except (UnicodeDecodeError, _SyntaxInChunk, pl.exceptions.PolarsError):
            del rejects.items[mark:]
        good = self._slow(source, numbered, rejects)
        return self._decode([n for n, _ in good], [line for _, line in good])

    def _fast(
        self, source: str, numbered: list[tuple[int, bytes]], rejects: Rejects
    ) -> list[tuple[int, bytes]]:
        payload = b"[" + b",".join(line for _, line in numbered) + b"]"
        try:
            self.many.validate_json(payload, strict=True)
        except ValidationError as error:
            reasons, syntax = _index_errors(error)
            if syntax:
                raise _SyntaxInChunk from None
            for index, reason in reasons.items():
                line_no, raw = numbered[index]
                rejects.add(source, line_no, reason, raw)
            return [item for i, item in enumerate(numbered) if i not in reasons]
        return numbered

    def _slow(
        self, source: str, numbered: list[tuple[int, bytes]], rejects: Rejects
    ) -> list[tuple[int, bytes]]:
        good = []
        for line_no, raw in numbered:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                rejects.add(source, line_no, f"invalid UTF-8 at byte {e.start}", raw)
                continue
            try:
                obj = json.loads(text, parse_constant=_reject_constant)
            except ValueError as e:
                rejects.add(source, line_no, f"not valid JSON: {e}", raw)
                continue
            if _has_nonfinite(obj):
                rejects.add(source, line_no, "not valid JSON: NaN or Infinity", raw)
                continue
            try:
                self.model.model_validate_json(raw, strict=True)
            except ValidationError as e:
                rejects.add(source, line_no, _error_text(e), raw)
                continue
            good.append((line_no, raw))
        return good

    def _decode(self, line_numbers: list[int], lines: list[bytes]) -> pl.DataFrame:
        if not lines:
            frame = pl.DataFrame(schema={"_raw": pl.String, "_rec": self.dtype})
        else:
            raw = pl.Series("_raw", lines, dtype=pl.Binary).cast(pl.String)
            frame = pl.DataFrame([raw]).select("_raw", pl.col("_raw").str.json_decode(self.dtype).alias("_rec"))
        return frame.unnest("_rec").with_columns(pl.Series("_line", line_numbers, dtype=pl.Int64))


class _SyntaxInChunk(Exception):
    """A chunk holds a line that is not JSON: check its lines one by one."""


def _has_nonfinite(obj: object) -> bool:
    if isinstance(obj, float):
        return not math.isfinite(obj)
    if isinstance(obj, dict):
        return any(_has_nonfinite(v) for v in obj.values())
    if isinstance(obj, list):
        return any(_has_nonfinite(v) for v in obj)
    return False
