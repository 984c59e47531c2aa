"""A fresh Neo4j database from a snapshot of the graph's tables, built by ``neo4j-admin database import``.

Writing a big graph through Bolt transactions costs what a transaction costs per row; the offline
importer writes the store files directly, an order of magnitude faster. ``matchgraph neo4j import``
(``api/neo4j_cli.py``) stops the local server, runs the importer on the files written here, starts
the server again and lets :meth:`graph.neo4j_store.Neo4jStore.complete_import` finish: constraints
and indexes (the migrations), what the importer cannot express, and the version node.

The files are CSV with typed headers (``id:ID(Artifact)``, ``day:date``, ``counts:long[]``, ...):
the importer's Parquet reader (a beta in 5.26) rejects list columns. A row becomes exactly the node
or relationship ``Neo4jStore.apply`` would make of it: null fields are empty and unquoted, so they
set no property (as ``SET n += row`` sets none); empty strings are quoted, so they stay; strings
keep their spaces; a file holding a line break in a value is read with the importer's multi-line
parser (the others with its fast one). Lists of text (capability tags and aliases, benchmark
names) are the one thing a CSV cannot carry exactly (an empty list and no list read alike, and an
element may hold any delimiter), so they are set afterwards, as ``apply`` sets them. Every id a
row names becomes a node, as ``apply`` ensures.

Nothing here touches the driver or the server: the caller gives the Java binary and the jars.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from graph.cypher import TOTALS_PROPERTIES, StoreLabel
from graph.errors import StoreUnavailable
from graph.schema import EdgeType, NodeLabel
from graph.tables import ARTIFACT_ENDPOINTS, OPEN_COLUMNS, SCHEMAS, Table, extra_columns

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from graph.store import Reader

ADMIN_TOOL = "org.neo4j.cli.AdminTool"
_DATETIME = "%Y-%m-%dT%H:%M:%S%.6fZ"
_ARRAY_DELIMITER = ";"
"""Between the elements of a ``long[]`` cell; only integer lists travel in the files."""


@dataclass
class ImportFiles:
    """The files of one import and what the server must be told once it runs them."""

    folder: Path
    nodes: list[tuple[str, Path]] = field(default_factory=list)
    relationships: list[tuple[str, Path]] = field(default_factory=list)
    multiline: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    capabilities: pl.DataFrame = field(default_factory=lambda: pl.DataFrame())
    """The capability rows with tags or aliases: written after the import (see the module)."""
    benchmarks: pl.DataFrame = field(default_factory=lambda: pl.DataFrame())
    """``artifact``, ``names``, ``scores``: each artifact's benchmark results, written after the
    import (names are free text, which no array delimiter separates safely)."""
    score_columns: list[str] = field(default_factory=list)
    """The open score columns the snapshot holds, which the version node names."""

    def command(self, java: str, lib: Path, database: str = "neo4j", heap: str = "1g",
                off_heap: str = "2g") -> list[str]:
        """The ``neo4j-admin database import full`` command line (the database name first: the
        file options take any number of values and would swallow it). ``off_heap`` bounds the
        importer's caches, which otherwise take 90% of the machine's free memory."""
        cmd = [java, f"-Xmx{heap}", "-cp", f"{lib}/*", ADMIN_TOOL, "database", "import", "full", database,
               "--overwrite-destination=true", f"--array-delimiter={_ARRAY_DELIMITER}",
               f"--max-off-heap-memory={off_heap}", "--report-file", str(self.folder / "import.report")]
        if self.multiline:
            cmd += ["--multiline-fields-format=v2", "--multiline-fields=" + ",".join(str(p) for p in self.multiline)]
        cmd += [f"--nodes={label}={path}" for label, path in self.nodes]
        cmd += [f"--relationships={kind}={path}" for kind, path in self.relationships]
        return cmd


def _typed(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Columns renamed to ``name:type`` headers and turned into the text the importer parses."""
    columns: list[pl.Expr] = []
    for name, dtype in schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.List):
            columns.append(column.cast(pl.List(pl.String)).list.join(_ARRAY_DELIMITER).alias(f"{name}:long[]"))
        elif isinstance(dtype, pl.Date):
            columns.append(column.alias(f"{name}:date"))
        elif isinstance(dtype, pl.Datetime):
            columns.append(column.dt.convert_time_zone("UTC").alias(f"{name}:datetime"))
        elif isinstance(dtype, pl.Boolean):
            columns.append(column.alias(f"{name}:boolean"))
        elif dtype.is_integer():
            columns.append(column.cast(pl.Int64).alias(f"{name}:long"))
        elif dtype.is_float():
            infinite = column.is_infinite().fill_null(False).any()
            # Java reads NaN but not inf: an infinity is written the way Double.parseDouble reads it
            spelled = pl.when(column.is_infinite()).then(
                pl.when(column > 0).then(pl.lit("Infinity")).otherwise(pl.lit("-Infinity")))
            if frame.select(infinite).item():
                columns.append(spelled.otherwise(column.cast(pl.String)).alias(f"{name}:double"))
            else:
                columns.append(column.alias(f"{name}:double"))
        else:
            columns.append(column.cast(pl.String).alias(name))
    return frame.select(columns)


class _Writer:
    """Writes the files of one import into ``folder``, keeping the command's lists."""

    def __init__(self, folder: Path) -> None:
        self.files = ImportFiles(folder)

    def write(self, kind: str, name: str, frame: pl.DataFrame, *, relationship: bool = False) -> None:
        if frame.height == 0:
            return
        path = self.files.folder / f"{len(self.files.nodes) + len(self.files.relationships):02d}-{name}.csv"
        frame.write_csv(path, null_value="", date_format="%Y-%m-%d", datetime_format=_DATETIME)
        texts = [c for c, t in frame.schema.items() if t == pl.String]
        if texts and frame.select(pl.any_horizontal(pl.col(texts).str.contains(r"[\r\n]").any())).item():
            self.files.multiline.append(path)
        (self.files.relationships if relationship else self.files.nodes).append((kind, path))
        self.files.rows[name] = self.files.rows.get(name, 0) + frame.height


def _ids(column: str, group: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its key column as the importer's id of ``group`` (also stored as ``column``)."""
    return frame.rename({column: f"{column}:ID({group})"})


def _ends(frame: pl.DataFrame, start: str, start_group: str, end: str, end_group: str) -> pl.DataFrame:
    return frame.rename({start: f":START_ID({start_group})", end: f":END_ID({end_group})"})


def write_import_files(reader: Reader, folder: Path) -> ImportFiles:
    """Write one CSV per node label and relationship type of the graph ``reader`` sees."""
    folder.mkdir(parents=True, exist_ok=True)
    out = _Writer(folder)
    t = {table: reader.table(table) for table in Table}

    # -- artifacts, with their scores, and a stub for every id a row names but no row describes
    scores = t[Table.SCORES]
    extras = extra_columns(Table.SCORES, scores.columns)
    out.files.score_columns = extras
    named = [t[table].get_column(column) for table, columns in ARTIFACT_ENDPOINTS.items()
             if table is not Table.ARTIFACTS for column in columns]
    named.append(scores.get_column("id"))
    artifacts = t[Table.ARTIFACTS]
    stubs = pl.concat(named).drop_nulls().unique().to_frame("id").join(artifacts.select("id"), on="id", how="anti")
    stubs = stubs.with_columns(pl.col("id").alias("name"), pl.lit(False).alias("catalogued"))
    artifacts = pl.concat([artifacts, stubs], how="diagonal_relaxed").select(list(SCHEMAS[Table.ARTIFACTS]))
    score_schema = {c: d for c, d in SCHEMAS[Table.SCORES].items() if c != "id"}
    score_schema |= dict.fromkeys(extras, OPEN_COLUMNS[Table.SCORES])
    artifacts = artifacts.join(scores, on="id", how="left")
    # the running sums a write keeps on each artifact (``ADD_TOTALS``)
    totals = t[Table.TOTALS].rename({"artifact": "id", **TOTALS_PROPERTIES})
    artifacts = artifacts.join(totals, on="id", how="left")
    totals_schema = {name: SCHEMAS[Table.TOTALS][column] for column, name in TOTALS_PROPERTIES.items()}
    out.write(NodeLabel.ARTIFACT, "artifacts",
              _ids("id", NodeLabel.ARTIFACT,
                   _typed(artifacts, {**SCHEMAS[Table.ARTIFACTS], **score_schema, **totals_schema})))
    benchmarks = t[Table.BENCHMARKS].sort("artifact", "benchmark")
    out.files.benchmarks = benchmarks.group_by("artifact", maintain_order=True).agg(
        pl.col("benchmark").alias("names"), pl.col("score").alias("scores"))

    # -- other nodes
    providers = t[Table.PROVIDERS]
    out.write(NodeLabel.PROVIDER, "providers",
              _ids("id", NodeLabel.PROVIDER, _typed(providers, SCHEMAS[Table.PROVIDERS])))
    caps = t[Table.CAPABILITIES]
    missing = t[Table.HAS_CAPABILITY].select(pl.col("capability").alias("id")).unique().join(
        caps.select("id"), on="id", how="anti")
    caps = pl.concat([caps, missing], how="diagonal_relaxed")
    out.files.capabilities = caps.filter(pl.col("tags").is_not_null() | pl.col("aliases").is_not_null()).select(
        list(SCHEMAS[Table.CAPABILITIES])).sort("id")
    scalar = {c: d for c, d in SCHEMAS[Table.CAPABILITIES].items() if not isinstance(d, pl.List)}
    out.write(NodeLabel.CAPABILITY, "capabilities", _ids("id", NodeLabel.CAPABILITY, _typed(caps, scalar)))
    intents = t[Table.INTENTS]
    missing = t[Table.MATCHED].select(pl.col("intent").alias("id")).unique().join(intents.select("id"), on="id",
                                                                                   how="anti")
    intents = pl.concat([intents, missing], how="diagonal_relaxed")
    out.write(NodeLabel.INTENT, "intents", _ids("id", NodeLabel.INTENT, _typed(intents, SCHEMAS[Table.INTENTS])))
    for label, table in ((StoreLabel.DAILY_DEMAND, Table.DAILY), (StoreLabel.RANK_HISTORY, Table.RANK_HISTORY),
                         (StoreLabel.INTENT_PREFERENCE, Table.INTENT_PREFERENCES),
                         (StoreLabel.INGESTED_FILE, Table.LEDGER), (StoreLabel.RUN, Table.RUNS)):
        out.write(label, table.value, _typed(t[table], SCHEMAS[table]))

    # -- relationships
    provided = artifacts.select(pl.col("id").alias("a"), pl.col("provider").alias("p")).join(
        providers.select(pl.col("id").alias("p")), on="p", how="semi")
    out.write(EdgeType.PROVIDED_BY, "provided_by",
              _ends(provided, "a", NodeLabel.ARTIFACT, "p", NodeLabel.PROVIDER), relationship=True)
    has_cap = t[Table.HAS_CAPABILITY]
    out.write(EdgeType.HAS_CAPABILITY, "has_capability",
              _ends(_typed(has_cap, SCHEMAS[Table.HAS_CAPABILITY]), "artifact", NodeLabel.ARTIFACT, "capability",
                    NodeLabel.CAPABILITY), relationship=True)
    for kind, table in ((EdgeType.DERIVED_FROM, Table.DERIVED_FROM), (EdgeType.INTEGRATES_WITH, Table.INTEGRATES_WITH)):
        out.write(kind, table.value, _ends(t[table], "src", NodeLabel.ARTIFACT, "dst", NodeLabel.ARTIFACT),
                  relationship=True)
    out.write(EdgeType.MATCHED, "matched",
              _ends(_typed(t[Table.MATCHED], SCHEMAS[Table.MATCHED]), "intent", NodeLabel.INTENT, "artifact",
                    NodeLabel.ARTIFACT), relationship=True)
    out.write(EdgeType.CO_MATCHED, "co_matched",
              _ends(_typed(t[Table.CO_MATCHED], SCHEMAS[Table.CO_MATCHED]), "a", NodeLabel.ARTIFACT, "b",
                    NodeLabel.ARTIFACT), relationship=True)
    out.write(EdgeType.PREFERRED_OVER, "preferred_over",
              _ends(_typed(t[Table.PREFERRED_OVER], SCHEMAS[Table.PREFERRED_OVER]), "winner", NodeLabel.ARTIFACT,
                    "loser", NodeLabel.ARTIFACT), relationship=True)
    out.write(EdgeType.SEEKS, "seeks",
              _ends(_typed(t[Table.SEEKS], SCHEMAS[Table.SEEKS]), "intent", NodeLabel.INTENT, "capability",
                    NodeLabel.CAPABILITY), relationship=True)
    boards = t[Table.BOARDS]
    board_schema = {c: d for c, d in SCHEMAS[Table.BOARDS].items() if c != "kind"}
    for need, group in (("capability", NodeLabel.CAPABILITY), ("intent", NodeLabel.INTENT)):
        rows = boards.filter(pl.col("kind") == need).drop("kind")
        out.write(EdgeType.BEST_FOR, f"best_for_{need}",
                  _ends(_typed(rows, board_schema), "artifact", NodeLabel.ARTIFACT, "need", group), relationship=True)
    return out.files


_COUNTS = re.compile(r"^\s+(\d+) (nodes|relationships|properties)$", re.MULTILINE)


def run_admin_import(command: Sequence[str], home: Path, conf: Path, timeout_s: float = 24 * 3600) -> dict[str, int]:
    """Run the importer (the server must be stopped) and return what it reports having imported."""
    env = {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(conf)}
    try:
        proc = subprocess.run(list(command), cwd=home, env=env, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired as e:
        raise StoreUnavailable(f"neo4j-admin database import did not finish within {timeout_s:.0f} s") from e
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 or "IMPORT DONE" not in output:
        causes = [ln.strip() for ln in output.splitlines() if ln.lstrip().startswith(("Caused by", "Error", "ERROR"))]
        tail = "\n".join(causes[-5:] or output.strip().splitlines()[-10:])
        raise StoreUnavailable(f"neo4j-admin database import failed:\n{tail}",
                               hint="the database was left empty; fix the cause and run the import again")
    return {kind: int(number) for number, kind in _COUNTS.findall(output)}
