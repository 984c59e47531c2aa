"""Catalogs in the native format (JSON lines, JSON array, CSV or Parquet) into graph deltas.

Catalogs hold thousands of records, not millions, so each record is validated with the pydantic
:class:`graph.schema.Artifact` model for precise reasons; the delta is then built in polars. In CSV
the nested fields are flattened: ``signals.<name>`` or ``<name>`` columns for signals,
``derived_from`` / ``integrates_with`` as ``;``-separated ids, ``capabilities`` as a JSON array.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import polars as pl
from pydantic import ValidationError

from graph.errors import InvalidInput
from graph.schema import SIGNALS, Artifact, slugify
from graph.tables import GraphDelta, Table
from ingest.adapters import ADAPTERS, detect_adapter
from ingest.files import PARQUET_MAGIC, head, open_decompressed
from ingest.jsonl import _error_text

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ingest.rejects import Rejects


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
        elif key == "capabilities":
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


def iter_records(path: Path, fmt: str, rejects: Rejects) -> Iterator[tuple[int, Any, str]]:
    """(record number, parsed record, raw text) for each record; unparseable ones go to rejects."""
    source = str(path)
    if fmt == "jsonl":
        with open_decompressed(path) as stream:
            for number, raw in enumerate(stream, start=1):
                if not raw.strip():
                    continue
                try:
                    yield number, json.loads(raw.decode("utf-8")), raw.decode("utf-8", "replace")
                except (UnicodeDecodeError, ValueError) as e:
                    rejects.add(source, number, f"not valid JSON: {e}", raw)
    elif fmt == "json":
        with open_decompressed(path) as stream:
            try:
                data = json.loads(stream.read().decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise InvalidInput(f"{path}: not a JSON array of records: {e}") from e
        if not isinstance(data, list):
            raise InvalidInput(f"{path}: a JSON catalog must be an array of records")
        for number, item in enumerate(data, start=1):
            yield number, item, json.dumps(item, ensure_ascii=False)
    elif fmt in ("csv", "parquet"):
        try:
            if fmt == "csv":
                with open_decompressed(path) as stream:
                    frame = pl.read_csv(stream.read(), infer_schema=False)
            else:
                frame = pl.read_parquet(path)
        except pl.exceptions.PolarsError as e:
            raise InvalidInput(f"{path}: cannot be read as {fmt}: {e}") from e
        for number, row in enumerate(frame.iter_rows(named=True), start=1 if fmt == "parquet" else 2):
            try:
                record = _csv_record(row) if fmt == "csv" else _without_nulls(row)
            except ValueError as e:
                rejects.add(source, number, f"bad value: {e}", json.dumps(row, default=str))
                continue
            yield number, record, json.dumps(row, default=str, ensure_ascii=False)
    else:
        raise InvalidInput(f"unknown catalog format {fmt!r}")


def read_catalog(path: Path, rejects: Rejects, fmt: str | None = None) -> tuple[list[Artifact], int]:
    """The valid artifacts of one native catalog file, and how many records it held."""
    fmt = fmt or detect_catalog_format(path)
    if fmt in ADAPTERS:
        return ADAPTERS[fmt](path, rejects)
    seen: set[str] = set()
    artifacts: list[Artifact] = []
    before = len(rejects)
    for number, record, raw in iter_records(path, fmt, rejects):
        try:
            artifact = Artifact.model_validate(record)
        except ValidationError as e:
            rejects.add(str(path), number, _error_text(e), raw)
            continue
        if artifact.id in seen:
            rejects.add(str(path), number, f"id: duplicate of an earlier record ({artifact.id})", raw)
            continue
        seen.add(artifact.id)
        artifacts.append(artifact)
    return artifacts, len(artifacts) + len(rejects) - before


def catalog_delta(artifacts: list[Artifact]) -> GraphDelta:
    """The nodes and edges a list of catalogued artifacts contributes."""
    rows = []
    providers: dict[str, str] = {}
    caps: dict[str, dict[str, Any]] = {}
    has_cap = []
    derived: list[dict[str, str]] = []
    integrates: list[dict[str, str]] = []
    for art in artifacts:
        provider_id = slugify(art.provider) if art.provider else None
        if provider_id and art.provider:
            providers[provider_id] = art.provider
        row: dict[str, Any] = art.model_dump(
            include={"id", "name", "type", "pricing", "url", "description", "license", "released",
                     "price_input", "price_output"}
        )
        row.update(provider=provider_id, catalogued=True, **art.signals.model_dump())
        rows.append(row)
        for position, cap in enumerate(art.capabilities, start=1):
            cap_id = slugify(cap.name) or f"capability-{position}"
            entry = caps.setdefault(cap_id, {"id": cap_id, "name": cap.name, "tags": []})
            entry["tags"] = sorted(set(entry["tags"]) | set(cap.tags))
            has_cap.append(
                {"artifact": art.id, "capability": cap_id, "description": cap.description, "unique": cap.unique,
                 "vs_alternatives": cap.vs_alternatives, "position": position}
            )
        derived.extend({"src": art.id, "dst": base} for base in art.derived_from if base != art.id)
        integrates.extend({"src": art.id, "dst": other} for other in art.integrates_with if other != art.id)
    delta = GraphDelta()
    known = {a.id for a in artifacts}
    linked = {d["dst"] for d in derived} | {i["dst"] for i in integrates}
    stubs = [{"id": i, "name": i, "catalogued": False} for i in sorted(linked - known)]
    delta.set(Table.ARTIFACTS, pl.DataFrame(rows + stubs, infer_schema_length=None) if rows or stubs
              else pl.DataFrame())
    delta.set(Table.PROVIDERS, pl.DataFrame([{"id": k, "name": v} for k, v in sorted(providers.items())],
                                            schema={"id": pl.String, "name": pl.String}))
    delta.set(Table.CAPABILITIES, pl.DataFrame(list(caps.values()),
                                               schema={"id": pl.String, "name": pl.String,
                                                       "tags": pl.List(pl.String)}))
    for table, data in ((Table.HAS_CAPABILITY, has_cap), (Table.DERIVED_FROM, derived),
                        (Table.INTEGRATES_WITH, integrates)):
        if data:
            delta.set(table, pl.DataFrame(data, infer_schema_length=None))
    return delta
