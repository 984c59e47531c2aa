"""Catalogs in the native format (JSON lines, JSON array, CSV or Parquet) into graph deltas.

Each record is validated with the pydantic :class:`graph.schema.Artifact` model under the reader's
:class:`graph.limits.ReadLimits`, for precise reasons; JSON lines go straight from bytes to the
model (pydantic parses them in Rust), and the delta is then built in polars. In CSV the nested
fields are flattened: ``signals.<name>`` or ``<name>`` columns for signals, ``derived_from`` /
``integrates_with`` as ``;``-separated ids, ``capabilities`` as a JSON array.

Damage stays local: a JSON array or object is parsed element by element, so a broken element (or
the end of a cut file) loses only itself and what follows it, never the records before it; text
that is not UTF-8 is kept as escapes and rejects only the records that hold it.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import polars as pl

from graph.errors import BadFile
from graph.limits import DEFAULT_LIMITS, ReadLimits
from graph.schema import SIGNALS, Artifact, slugify
from graph.tables import SCHEMAS, GraphDelta, Table
from ingest.adapters import ADAPTERS, detect_adapter
from ingest.files import (
    PARQUET_MAGIC,
    POLARS_FAILURES,
    first_line,
    head,
    iter_line_chunks,
    read_content,
    unknown_format,
)
from ingest.records import Item, collect, collector_paused, dump, iter_csv_rows, iter_json_container, text_problem

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ingest.files import Content
    from ingest.rejects import Rejects

CATALOG_FORMATS = ("jsonl", "json", "csv", "parquet")
CATALOG_CHUNK = 10_000


def detect_catalog_format(path: Path) -> str:
    """The native format, or the name of the adapter (:data:`ingest.adapters.ADAPTERS`) a known foreign file needs."""
    start = head(path, 4096)
    if start.startswith(PARQUET_MAGIC):
        return "parquet"
    adapter = detect_adapter(start)
    if adapter:
        return adapter
    text = start.lstrip()
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return "jsonl"
    return "csv"


def _csv_record(row: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    signals: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or value == "":
            continue
        name = key.removeprefix("signals.")
        if name in SIGNALS:
            signals[name] = float(value)
        elif key in ("derived_from", "integrates_with"):
            record[key] = [v for v in str(value).split(";") if v.strip()]
        elif key in ("capabilities", "benchmarks"):
            record[key] = json.loads(value)
        elif key in ("price_input", "price_output"):
            record[key] = float(value)
        else:
            record[key] = value
    if signals:
        record["signals"] = signals
    return record


def _without_nulls(value: Any) -> Any:
    """Parquet gives every struct field, null where absent; the model wants absent fields left out."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _parquet_items(path: Path, content: Content) -> Iterator[Item]:
    try:
        frame = pl.read_parquet(io.BytesIO(content.data))
    except POLARS_FAILURES as e:
        raise BadFile(path, f"cannot be read as Parquet: {first_line(e)}") from e
    for number, row in enumerate(frame.iter_rows(named=True), start=1):
        raw = dump(row)
        problem = text_problem(raw)
        yield Item(number, None, raw, problem) if problem else Item(number, _without_nulls(row), raw)


def iter_items(path: Path, fmt: str, rejects: Rejects, limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[Item]:
    """Every record of a native catalog file, parsed (JSON lines come as raw bytes in ``value``)."""
    if fmt == "jsonl":
        for first, lines in iter_line_chunks(path, CATALOG_CHUNK, rejects, limits):
            for offset, line in enumerate(lines):
                if line.strip():
                    yield Item(first + offset, line, "")
    elif fmt == "json":
        for item in iter_json_container(path, read_content(path, limits), "["):
            problem = item.problem or text_problem(dump(item.value))
            yield Item(item.number, None, item.raw, problem) if problem else item
    elif fmt == "csv":
        content = read_content(path, limits)
        _, rows = iter_csv_rows(path, content)
        for item in rows:
            if item.problem:
                yield item
                continue
            problem = text_problem(item.raw)
            if problem:
                yield Item(item.number, None, item.raw, problem)
                continue
            try:
                yield Item(item.number, _csv_record(item.value), dump(item.value))
            except (ValueError, RecursionError) as e:
                reason = "nested too deeply" if isinstance(e, RecursionError) else str(e)
                yield Item(item.number, None, dump(item.value), f"bad value: {reason}")
    elif fmt == "parquet":
        yield from _parquet_items(path, read_content(path, limits))
    else:
        raise unknown_format("catalog", fmt, ", ".join((*CATALOG_FORMATS, *ADAPTERS)))


def read_catalog(path: Path, rejects: Rejects, fmt: str | None = None,
                 limits: ReadLimits = DEFAULT_LIMITS) -> tuple[list[Artifact], int]:
    """The valid artifacts of one catalog file, and how many records it held.

    A file that cannot be used at all raises :class:`graph.errors.BadFile`; one with nothing valid
    gives no artifacts and leaves its rejects.
    """
    fmt = fmt or detect_catalog_format(path)
    if fmt in ADAPTERS:
        return ADAPTERS[fmt](path, rejects, limits)
    before = len(rejects)
    artifacts, _ = collect(iter_items(path, fmt, rejects, limits), str(path), rejects, limits)
    # every record is an artifact or a reject; lines rejected before they became records count too
    return artifacts, len(artifacts) + len(rejects) - before


def catalog_delta(artifacts: list[Artifact]) -> GraphDelta:
    """The nodes and edges a list of catalogued artifacts contributes."""
    with collector_paused():
        return _catalog_delta(artifacts)


def _catalog_delta(artifacts: list[Artifact]) -> GraphDelta:
    """Built column by column (no dict per row), which is what keeps 100k artifacts to seconds."""
    slugs: dict[str, str] = {}  # providers and capability names repeat across a catalog

    def slug(text: str) -> str:
        found = slugs.get(text)
        if found is None:
            found = slugs[text] = slugify(text)
        return found

    providers: dict[str, str] = {}
    provider_ids: list[str | None] = []
    for art in artifacts:
        provider_id = slug(art.provider) if art.provider else None
        if provider_id and art.provider:
            providers[provider_id] = art.provider
        provider_ids.append(provider_id)
    columns: dict[str, list[Any]] = {
        "id": [a.id for a in artifacts],
        "name": [a.name for a in artifacts],
        "type": [a.type.value for a in artifacts],
        "pricing": [a.pricing.value for a in artifacts],
        "url": [a.url for a in artifacts],
        "description": [a.description for a in artifacts],
        "license": [a.license for a in artifacts],
        "released": [a.released for a in artifacts],
        "price_input": [a.price_input for a in artifacts],
        "price_output": [a.price_output for a in artifacts],
        "provider": provider_ids,
        "catalogued": [True] * len(artifacts),
        **{name: [getattr(a.signals, name) for a in artifacts] for name in SIGNALS},
    }
    flat = [(art.id, position, cap) for art in artifacts for position, cap in enumerate(art.capabilities, start=1)]
    cap_ids = [slug(cap.name) or f"capability-{position}" for _, position, cap in flat]
    caps: dict[str, str] = {}
    tags: dict[str, set[str]] = {}
    for cap_id, (_, _, cap) in zip(cap_ids, flat, strict=True):
        if cap_id not in caps:
            caps[cap_id] = cap.name
            tags[cap_id] = set()
        tags[cap_id].update(cap.tags)
    has_cap = {
        "artifact": [art_id for art_id, _, _ in flat],
        "capability": cap_ids,
        "description": [cap.description for _, _, cap in flat],
        "unique": [cap.unique for _, _, cap in flat],
        "vs_alternatives": [cap.vs_alternatives for _, _, cap in flat],
        "position": [position for _, position, _ in flat],
        "name": [cap.name for _, _, cap in flat],
    }
    derived: dict[str, list[str]] = {"src": [], "dst": []}
    integrates: dict[str, list[str]] = {"src": [], "dst": []}
    for art in artifacts:
        for edges, targets in ((derived, art.derived_from), (integrates, art.integrates_with)):
            for other in targets:
                if other != art.id:
                    edges["src"].append(art.id)
                    edges["dst"].append(other)
    bench = [(art.id, name, score) for art in artifacts for name, score in art.benchmarks.items()]
    delta = GraphDelta()
    if bench:
        delta.set(Table.BENCHMARKS, pl.DataFrame(bench, schema=SCHEMAS[Table.BENCHMARKS], orient="row"))
    known = set(columns["id"])
    stubs = sorted((set(derived["dst"]) | set(integrates["dst"])) - known)
    if artifacts or stubs:
        schema = SCHEMAS[Table.ARTIFACTS]
        frame = pl.DataFrame(columns, schema={name: schema[name] for name in columns})
        stub_frame = pl.DataFrame({"id": stubs, "name": stubs, "catalogued": [False] * len(stubs)},
                                  schema={"id": pl.String, "name": pl.String, "catalogued": pl.Boolean})
        delta.set(Table.ARTIFACTS, pl.concat([frame, stub_frame], how="diagonal"))
    else:
        delta.set(Table.ARTIFACTS, pl.DataFrame())
    ordered = sorted(providers)
    delta.set(Table.PROVIDERS, pl.DataFrame({"id": ordered, "name": [providers[k] for k in ordered]},
                                            schema={"id": pl.String, "name": pl.String}))
    delta.set(Table.CAPABILITIES, pl.DataFrame({"id": list(caps), "name": list(caps.values()),
                                                "tags": [sorted(tags[k]) for k in caps]},
                                               schema={"id": pl.String, "name": pl.String,
                                                       "tags": pl.List(pl.String)}))
    for table, data in ((Table.HAS_CAPABILITY, has_cap), (Table.DERIVED_FROM, derived),
                        (Table.INTEGRATES_WITH, integrates)):
        if data["artifact" if table == Table.HAS_CAPABILITY else "src"]:
            delta.set(table, pl.DataFrame(data, schema=SCHEMAS[table]))
    return delta
