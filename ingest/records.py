"""Records of catalog files, one by one: numbered, parsed where they can be, checked against the model.

Shared by the native catalog reader and the adapters. Damage stays local: a JSON array or object is
parsed element by element, so a broken element (or the end of a cut file) loses only itself and
what follows it, never the records before it; text that is not UTF-8 is kept as escapes and
rejects only the records that hold it; a CSV row with too many fields is one reject.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from graph.errors import BadFile
from graph.schema import Artifact
from ingest.files import cut_reason
from ingest.jsonl import error_text

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from graph.limits import ReadLimits
    from ingest.files import Content
    from ingest.rejects import Rejects

_NOT_TEXT = re.compile("[\udc80-\udcff]")
"""A byte that was not UTF-8, kept by ``surrogateescape`` decoding."""
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Item:
    """One record of a file: its number, the parsed value (or why there is none), and its raw text."""

    number: int
    value: Any
    raw: str
    problem: str | None = None


def dump(value: Any) -> str:
    """A parsed value as JSON text for a rejects file, whatever it holds."""
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (ValueError, RecursionError):
        return repr(value)[:4000]


def text_of(content: Content) -> str:
    """A whole file's text; bytes that are not UTF-8 are kept as escapes for the records to reject."""
    return content.data.decode("utf-8", "surrogateescape")


def text_problem(text: str) -> str | None:
    """Why a record's text (raw, or its parsed values dumped) cannot be stored, if it cannot."""
    if _NOT_TEXT.search(text):
        return "invalid UTF-8 in this record"
    if _SURROGATE.search(text):
        return "holds an unpaired UTF-16 surrogate escape, which is not text"
    return None


DUPLICATE_ID = "duplicate id"
_DECODER = json.JSONDecoder()
"""Takes ``NaN`` and ``Infinity`` as numbers, so the model rejects them with the field they are in
(and an array goes on past them)."""
_WS = re.compile(r"[ \t\n\r]*")


def iter_json_container(path: Path, content: Content, opening: str) -> Iterator[Item]:
    """The elements of a JSON array (``opening="["``) or the entries of an object (``"{"``), one by one.

    An object entry's value is ``(key, value)``. Parsing stops at the first element that is not
    JSON (reported as a problem item), since nothing after it can be located with certainty.
    """
    text = text_of(content)
    closing = "]" if opening == "[" else "}"
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith(opening, pos):
        what = "an array" if opening == "[" else "an object"
        raise BadFile(path, f"is not a JSON {what.split()[1]}: it must be {what} of records")
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    number = 0
    if text.startswith(closing, pos):
        yield from _cut_after(content, number)
        return
    while True:
        number += 1
        start = pos
        try:
            if opening == "{":
                key, pos = _DECODER.raw_decode(text, pos)
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                if not isinstance(key, str) or not text.startswith(":", pos):
                    raise ValueError(f"expected a key and ':' at char {pos}")
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                value, pos = _DECODER.raw_decode(text, pos)
                value = (key, value)
            else:
                value, pos = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError) as e:
            reason = "not valid JSON: " + ("nested too deeply" if isinstance(e, RecursionError) else str(e))
            if content.cut:
                reason = cut_reason(content.cut, "record", number - 1)
            yield Item(number, None, text[start:start + 4000], reason)
            return
        yield Item(number, value, text[start:pos])
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        elif text.startswith(closing, pos):
            yield from _cut_after(content, number)  # whole, but the compressed stream went on wrongly
            return
        else:
            reason = f"not valid JSON: expected ',' or '{closing}' after record {number}"
            if content.cut:
                reason = cut_reason(content.cut, "record", number)
            yield Item(number + 1, None, text[pos:pos + 4000], reason)
            return


def _cut_after(content: Content, number: int) -> Iterator[Item]:
    if content.cut:
        yield Item(number + 1, None, "", cut_reason(content.cut, "record", number))


def iter_csv_rows(path: Path, content: Content) -> tuple[list[str], Iterator[Item]]:
    """The header and the rows of a CSV file as ``{column: text}`` items numbered by their first line.

    The ``csv`` module reads quoted fields across lines; a row with more fields than the header is
    a problem item, a shorter one ends in empty fields.
    """
    text = text_of(content)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise BadFile(path, f"the CSV header cannot be read: {e}") from e
    if header is None:
        return [], iter(())
    header = [h.strip() for h in header]
    if text_problem("".join(header)):
        raise BadFile(path, "the CSV header is not UTF-8 text")
    if len(set(header)) != len(header):
        raise BadFile(path, "the CSV header names a column twice")

    def rows() -> Iterator[Item]:
        line = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                yield Item(line, None, "", f"malformed CSV row: {e}")
                break
            raw = ",".join(cells)
            if not any(c.strip() for c in cells):
                line = reader.line_num + 1
                continue
            if len(cells) > len(header):
                yield Item(line, None, raw, f"malformed CSV row: {len(cells)} fields, expected {len(header)}")
            else:
                yield Item(line, dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True)), raw)
            line = reader.line_num + 1
        if content.cut:
            yield Item(line, None, "", cut_reason(content.cut, "line", line - 1))

    return header, rows()


def validate(item: Item, context: dict[str, Any]) -> Artifact | str:
    """The artifact an item holds, or the reason it is rejected."""
    if item.problem:
        return item.problem
    try:
        if isinstance(item.value, bytes):
            return Artifact.model_validate_json(item.value, context=context)
        if not isinstance(item.value, dict):
            return "not a JSON object"
        return Artifact.model_validate(item.value, context=context)
    except ValidationError as e:
        if any(err["type"] == "json_invalid" for err in e.errors()):
            return f"not valid JSON: {e.errors()[0]['msg']}"
        return error_text(e)
    except RecursionError:
        return "nested too deeply"


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the records are built.

    Every validated record is kept, so each automatic collection walks all records built so far
    again: at 100k artifacts that was 60% of the reading time. The models hold no reference
    cycles, so reference counting frees whatever is dropped meanwhile.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def collect(items: Iterator[Item], source: str, rejects: Rejects, limits: ReadLimits) -> tuple[list[Artifact], int]:
    """Validated artifacts (the first of each id wins), and how many records were read."""
    with collector_paused():
        return _collect(items, source, rejects, limits)


def _collect(items: Iterator[Item], source: str, rejects: Rejects, limits: ReadLimits) -> tuple[list[Artifact], int]:
    context = {"limits": limits}
    seen: set[str] = set()
    artifacts: list[Artifact] = []
    read = 0
    for item in items:
        read += 1
        result = validate(item, context)
        raw = item.raw or (item.value.decode("utf-8", "backslashreplace") if isinstance(item.value, bytes) else "")
        if isinstance(result, str):
            rejects.add(source, item.number, result, raw)
            continue
        if result.id in seen:
            rejects.add(source, item.number, f"{DUPLICATE_ID}: {result.id} (an earlier record has it)", raw)
            continue
        seen.add(result.id)
        artifacts.append(result)
    return artifacts, read


