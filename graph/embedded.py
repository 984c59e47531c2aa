"""The embedded store: the graph's tables in memory, durable as Parquet snapshots on disk.

Layout under ``<home>/embedded``::

    CURRENT                  name of the live snapshot (replaced atomically)
    LOCK                     flock held by the one writer; the kernel drops it if the writer dies
    snapshots/<name>/*.parquet + manifest.json

A write builds a complete new snapshot in a temporary folder, fsyncs it, renames it into place and
only then swaps ``CURRENT``; a crash at any moment leaves ``CURRENT`` naming a complete snapshot.
Unchanged tables are hard-linked from the previous snapshot, so a nightly delta costs what it
changes. Bulk data stays in polars; NetworkX is given only the small subgraphs a traversal
(neighborhood, shortest path) needs, because a full NetworkX copy of a million edges costs ~16 s
and ~340 bytes per edge (see BENCHMARKS.md).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import polars as pl

from graph.errors import StoreLocked, StoreUnavailable
from graph.store import GraphEdge, GraphNode, Subgraph, grow_neighborhood, lock_owner
from graph.tables import (
    ADDITIVE,
    ARTIFACT_ENDPOINTS,
    KEYS,
    SCHEMAS,
    GraphDelta,
    Table,
    conform,
    empty,
    merge_additive,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

FORMAT_VERSION = 1
_CAPABILITY_COLUMNS = {Table.HAS_CAPABILITY: "capability", Table.CAPABILITIES: "id"}
_LINK_TABLES = {
    Table.DERIVED_FROM: "DERIVED_FROM",
    Table.INTEGRATES_WITH: "INTEGRATES_WITH",
}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EmbeddedStore:
    """A :class:`graph.store.GraphStore` on polars tables persisted as Parquet snapshots."""

    kind = "networkx"
    max_searches_per_write: int | None = None

    def __init__(self, home: Path, *, lock_timeout_s: float = 30.0) -> None:
        self.root = Path(home) / "embedded"
        self.lock_timeout_s = lock_timeout_s
        try:
            (self.root / "snapshots").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreUnavailable(f"cannot create the store under {self.root}: {e.strerror}") from e
        self._snapshot: str | None = None
        self._tables: dict[Table, pl.DataFrame] = {}

    # -- snapshots -------------------------------------------------------------------------
    def _current_name(self) -> str | None:
        try:
            return (self.root / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def _refresh(self) -> None:
        """Drop cached tables when another process has published a newer snapshot."""
        name = self._current_name()
        if name != self._snapshot:
            self._snapshot = name
            self._tables = {}

    def _load(self, table: Table) -> pl.DataFrame:
        self._refresh()
        cached = self._tables.get(table)
        if cached is not None:
            return cached
        frame = empty(table)
        if self._snapshot is not None:
            path = self.root / "snapshots" / self._snapshot / f"{table.value}.parquet"
            if path.exists():
                frame = conform(table, pl.read_parquet(path))
        self._tables[table] = frame
        return frame

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        lock_path = self.root / "LOCK"
        with open(lock_path, "a+") as handle:
            deadline = time.monotonic() + self.lock_timeout_s
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreLocked(
                            f"another process is writing the store at {self.root}",
                            hint="wait for it to finish; a crashed writer releases the lock by itself",
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _publish(self, tables: dict[Table, pl.DataFrame], changed: set[Table]) -> str:
        previous = self._snapshot
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{secrets.token_hex(3)}"
        snapshots = self.root / "snapshots"
        tmp = snapshots / f".tmp-{name}"
        tmp.mkdir()
        for table in Table:
            target = tmp / f"{table.value}.parquet"
            old = snapshots / previous / f"{table.value}.parquet" if previous else None
            if table not in changed and old is not None and old.exists():
                os.link(old, target)
                continue
            frame = tables.get(table)
            if frame is None:
                frame = self._load(table)
            frame.write_parquet(target, compression="zstd", statistics=True)
            with open(target, "rb+") as fh:
                os.fsync(fh.fileno())
        manifest = {
            "format": FORMAT_VERSION,
            "previous": previous,
            "rows": {t.value: (tables[t] if t in tables else self._load(t)).height for t in Table},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        _fsync_dir(tmp)
        os.rename(tmp, snapshots / name)
        _fsync_dir(snapshots)
        pointer = self.root / "CURRENT.tmp"
        pointer.write_text(name + "\n")
        with open(pointer, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer, self.root / "CURRENT")
        _fsync_dir(self.root)
        self._collect_garbage(keep={name, previous})
        return name

    def _collect_garbage(self, keep: set[str | None]) -> None:
        for entry in (self.root / "snapshots").iterdir():
            if entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)

    @contextmanager
    def run_lock(self, name: str, ttl_s: float) -> Iterator[None]:
        """An exclusive ``flock`` on ``<root>/<name>.lock`` for the run (``ttl_s`` is not needed:
        the kernel releases the lock of a process that dies, however it dies)."""
        del ttl_s
        path = self.root / f"{name}.lock"
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise StoreLocked(f"a {name} run is already in progress ({holder})",
                                  hint="wait for it to finish; a run that dies releases the lock") from None
            try:
                handle.seek(0)
                handle.truncate()
                handle.write(f"{lock_owner()} since {datetime.now(UTC).isoformat(timespec='seconds')}")
                handle.flush()
                yield
            finally:
                handle.truncate(0)
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # -- writes ------------------------------------------------------------------------------
    def apply(self, delta: GraphDelta) -> None:
        if not delta.tables:
            return
        with self._write_lock():
            self._refresh()
            merged = {table: self._merged(table, frame) for table, frame in delta.tables.items()}
            new_name = self._publish(merged, set(merged))
            self._snapshot = new_name
            self._tables.update(merged)

    def _merged(self, table: Table, new: pl.DataFrame) -> pl.DataFrame:
        old = self._load(table)
        keys = list(KEYS[table])
        if table in ADDITIVE:
            return merge_additive(table, old, new)
        if table is Table.ARTIFACTS:
            return _merge_artifacts(old, new)
        if table is Table.HAS_CAPABILITY:
            kept = old.filter(~pl.col("artifact").is_in(new.get_column("artifact").unique().implode()))
            return pl.concat([kept, new.unique(keys, keep="last")]).sort(["artifact", "position"])
        if table is Table.SCORES:
            return new.unique(keys, keep="last").sort("id")
        if table in (Table.RANK_HISTORY, Table.LEDGER, Table.RUNS):
            return pl.concat([old, new]).unique(keys, keep="first", maintain_order=True)
        # node and link tables: upsert by key, the newest row wins
        return pl.concat([old, new]).unique(keys, keep="last").sort(keys)

    def clear(self) -> None:
        with self._write_lock():
            self._refresh()
            cleared = {table: empty(table) for table in Table}
            self._snapshot = self._publish(cleared, set(cleared))
            self._tables = cleared

    # -- reads -------------------------------------------------------------------------------
    def version(self) -> str:
        """The live snapshot's name: every write publishes a new one."""
        return self._current_name() or ""

    def table(self, table: Table, ids: Sequence[str] | None = None, *,
              capabilities: Sequence[str] | None = None) -> pl.DataFrame:
        frame = self._load(table)
        if capabilities is not None:
            column = _CAPABILITY_COLUMNS.get(table)
            if column is None or ids is not None:
                raise ValueError(f"table {table.value} cannot be filtered on capabilities here")
            return frame.filter(pl.col(column).is_in(pl.Series(list(capabilities), dtype=pl.String).implode()))
        if ids is None:
            return frame
        wanted = pl.Series(list(ids), dtype=pl.String).implode()
        columns = ARTIFACT_ENDPOINTS.get(table)
        if not columns:
            raise ValueError(f"table {table.value} has no artifact column to filter on")
        condition = pl.any_horizontal([pl.col(c).is_in(wanted) for c in columns])
        return frame.filter(condition)

    def tables(self, tables: Sequence[Table], ids: Sequence[str]) -> dict[Table, pl.DataFrame]:
        return {table: self.table(table, ids) for table in tables}

    def artifact_stats(self) -> pl.DataFrame:
        artifacts = self._load(Table.ARTIFACTS).select("id", "provider")
        matched = self._load(Table.MATCHED).group_by("artifact").agg(
            pl.col("count").sum().alias("times_matched"),
            pl.col("clicks").sum().alias("clicks"),
            pl.len().alias("intents"),
        )
        co = self._load(Table.CO_MATCHED)
        co_both = pl.concat(
            [co.select(pl.col("a").alias("id"), "count"), co.select(pl.col("b").alias("id"), "count")]
        ).group_by("id").agg(
            pl.len().alias("co_matched_degree"), pl.col("count").sum().alias("co_matched_weight")
        )
        derived = (
            self._load(Table.DERIVED_FROM).group_by("dst").agg(pl.len().alias("derived_works"))
        )
        links = self._load(Table.INTEGRATES_WITH)
        integrations = (
            pl.concat([links.select(pl.col("src").alias("id"), pl.col("dst").alias("other")),
                       links.select(pl.col("dst").alias("id"), pl.col("src").alias("other"))])
            .unique()
            .group_by("id")
            .agg(pl.len().alias("integrations"))
        )
        has_cap = self._load(Table.HAS_CAPABILITY).select("artifact", "capability")
        caps = has_cap.group_by("artifact").agg(pl.len().alias("capabilities"))
        connected = co_both.select("id").with_columns(pl.lit(1).alias("connected"))
        flagged = has_cap.join(connected, left_on="artifact", right_on="id", how="left").with_columns(
            pl.col("connected").fill_null(0)
        )
        per_capability = flagged.group_by("capability").agg(pl.col("connected").sum().alias("n_connected"))
        peers = (
            flagged.join(per_capability, on="capability")
            .group_by("artifact")
            .agg((pl.col("n_connected") - pl.col("connected")).sum().alias("capability_peers"))
        )
        family = (
            artifacts.filter(pl.col("provider").is_not_null())
            .group_by("provider")
            .agg(pl.len().alias("provider_family"))
        )
        prefs = self._load(Table.PREFERRED_OVER)
        wins = prefs.group_by("winner").agg(pl.col("count").sum().alias("wins"))
        losses = prefs.group_by("loser").agg(pl.col("count").sum().alias("losses"))
        last = self._load(Table.DAILY).group_by("artifact").agg(pl.col("day").max().alias("last_matched"))
        out = (
            artifacts.join(matched, left_on="id", right_on="artifact", how="left")
            .join(co_both, on="id", how="left")
            .join(derived, left_on="id", right_on="dst", how="left")
            .join(integrations, on="id", how="left")
            .join(caps, left_on="id", right_on="artifact", how="left")
            .join(peers, left_on="id", right_on="artifact", how="left")
            .join(family, on="provider", how="left")
            .join(wins, left_on="id", right_on="winner", how="left")
            .join(losses, left_on="id", right_on="loser", how="left")
            .join(last, left_on="id", right_on="artifact", how="left")
        )
        counts = [c for c in out.columns if c not in ("id", "provider", "last_matched")]
        return (
            out.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in counts])
            .with_columns(pl.col("provider_family").clip(lower_bound=1))
            .select(_stats_columns())
            .sort("id")
        )

    def search_text(self, text: str, limit: int) -> pl.DataFrame:
        terms = [t for t in text.casefold().split() if t]
        if not terms:
            return pl.DataFrame(schema={"id": pl.String, "score": pl.Float64})
        artifacts = self._load(Table.ARTIFACTS)
        caps = (
            self._load(Table.HAS_CAPABILITY)
            .join(self._load(Table.CAPABILITIES), left_on="capability", right_on="id", how="left")
            .group_by("artifact")
            .agg(pl.concat_str([pl.col("name"), pl.col("description")], separator=" ", ignore_nulls=True)
                 .str.join(" ").alias("cap_text"))
        )
        intents = (
            self._load(Table.MATCHED).group_by("artifact").agg(pl.col("intent").str.join(" ").alias("intent_text"))
        )
        docs = (
            artifacts.select("id", "name", "description")
            .join(caps, left_on="id", right_on="artifact", how="left")
            .join(intents, left_on="id", right_on="artifact", how="left")
            .with_columns(
                [pl.col(c).fill_null("").str.to_lowercase() for c in ("name", "description", "cap_text",
                                                                       "intent_text")]
                + [pl.col("id").alias("id_text")]
            )
        )
        field_weights = {"id_text": 4.0, "name": 4.0, "description": 1.0, "cap_text": 1.0, "intent_text": 2.0}
        score = pl.lit(0.0)
        for term in terms:
            for col, weight in field_weights.items():
                score = score + pl.col(col).str.contains(term, literal=True).cast(pl.Float64) * weight
        exact = (pl.col("name") == text.casefold()) | (pl.col("id") == text.casefold())
        return (
            docs.with_columns((score + exact.cast(pl.Float64) * 10.0).alias("score"))
            .filter(pl.col("score") > 0)
            .sort(["score", "id"], descending=[True, False])
            .head(limit)
            .select("id", "score")
        )

    # -- traversals --------------------------------------------------------------------------
    def _artifact_edges(self) -> pl.DataFrame:
        """Every artifact-artifact edge as (src, dst, type, weight), co-matches strongest."""
        co = self._load(Table.CO_MATCHED).select(
            pl.col("a").alias("src"), pl.col("b").alias("dst"), pl.lit("CO_MATCHED").alias("type"),
            pl.col("count").cast(pl.Float64).alias("weight"),
        )
        frames = [co]
        for table, rel in _LINK_TABLES.items():
            frames.append(
                self._load(table).select(
                    "src", "dst", pl.lit(rel).alias("type"), pl.lit(1.0).alias("weight")
                )
            )
        return pl.concat(frames)

    def _expand(self, edges: pl.DataFrame, frontier: set[str], per_node: int) -> pl.DataFrame:
        wanted = pl.Series(sorted(frontier), dtype=pl.String).implode()
        touching = edges.filter(pl.col("src").is_in(wanted) | pl.col("dst").is_in(wanted))
        oriented = pl.concat(
            [
                touching.filter(pl.col("src").is_in(wanted)).select("src", "dst", "type", "weight"),
                touching.filter(pl.col("dst").is_in(wanted)).select(
                    pl.col("dst").alias("src"), pl.col("src").alias("dst"), "type", "weight"
                ),
            ]
        )
        return (
            oriented.sort(["weight", "dst"], descending=[True, False])
            .group_by("src", maintain_order=True)
            .head(per_node)
        )

    def neighborhood(self, artifact_id: str, depth: int, limit: int) -> Subgraph:
        edges = self._artifact_edges()
        graph = grow_neighborhood(artifact_id, depth, limit,
                                  lambda frontier: self._expand(edges, frontier, per_node=limit))
        return self._subgraph(artifact_id, graph)

    def _subgraph(self, center: str, graph: nx.Graph) -> Subgraph:
        ids = list(graph.nodes)
        info = self.table(Table.ARTIFACTS, ids).select("id", "name", "type")
        ranks = dict(self.table(Table.SCORES, ids).select("id", "rank").iter_rows())
        by_id = {row[0]: row for row in info.iter_rows()}
        nodes = [
            GraphNode(
                id=node,
                label="Artifact",
                name=by_id[node][1] if node in by_id else node,
                type=by_id[node][2] if node in by_id else None,
                rank=ranks.get(node),
            )
            for node in ids
        ]
        edges = [
            GraphEdge(source=u, target=v, type=data["type"], weight=data["weight"])
            for u, v, data in graph.edges(data=True)
        ]
        return Subgraph(center=center, nodes=nodes, edges=edges)

    def path(self, a: str, b: str, max_depth: int) -> list[str]:
        """Bidirectional frontier search in polars, then NetworkX on the few edges it touched."""
        if a == b:
            return [a]
        edges = self._artifact_edges()
        graph: nx.Graph = nx.Graph()
        seen_a, seen_b = {a}, {b}
        front_a, front_b = {a}, {b}
        for _ in range(max_depth):
            if not front_a or not front_b:
                break
            grow_a = len(front_a) <= len(front_b)
            frontier = front_a if grow_a else front_b
            step = self._expand(edges, frontier, per_node=1_000_000)
            graph.add_edges_from(step.select("src", "dst").iter_rows())
            reached = set(step.get_column("dst").to_list())
            if grow_a:
                front_a = reached - seen_a
                seen_a |= reached
            else:
                front_b = reached - seen_b
                seen_b |= reached
            if seen_a & seen_b:
                route: list[str] = nx.shortest_path(graph, a, b)
                return route if len(route) - 1 <= max_depth else []
        return []

    def close(self) -> None:
        self._tables = {}


def _stats_columns() -> list[str]:
    from graph.store import STATS_COLUMNS

    return list(STATS_COLUMNS)


def _merge_artifacts(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Catalogued rows overwrite with their non-null fields; stubs only fill ids not yet known."""
    new = new.unique("id", keep="last")
    catalogued = new.filter(pl.col("catalogued"))
    stubs = new.filter(~pl.col("catalogued")).join(old.select("id"), on="id", how="anti")
    stubs = stubs.join(catalogued.select("id"), on="id", how="anti")
    fields = [c for c in SCHEMAS[Table.ARTIFACTS] if c != "id"]
    updated = catalogued.join(old, on="id", how="left", suffix="_old").select(
        "id", *[pl.coalesce(pl.col(c), pl.col(f"{c}_old")).alias(c) for c in fields]
    )
    untouched = old.join(catalogued.select("id"), on="id", how="anti")
    return pl.concat([untouched, updated.select(old.columns), stubs.select(old.columns)]).sort("id")
