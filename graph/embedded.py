"""The embedded store: the graph's tables in memory, durable as Parquet snapshots on disk.

Layout under ``<home>/embedded``::

    CURRENT                  name of the live snapshot (replaced atomically)
    LOCK                     flock held by the one writer; the kernel drops it if the writer dies
    snapshots/<name>/        one Parquet file per table, the id dictionaries, manifest.json

Ids are stored as integer codes. Each snapshot carries two dictionaries, artifact ids and intents,
whose positions are the codes; they only ever grow (a code, once given, names the same id in every
later snapshot), so unchanged tables can be shared between snapshots as they are. Integer keys
make the merges of a write and the indexes of a read cheap: grouping and sorting a few million
``u32`` pairs takes tens of milliseconds where the same on strings takes seconds.

A write builds a complete new snapshot in a temporary folder, fsyncs it, renames it into place and
only then swaps ``CURRENT``; a crash at any moment leaves ``CURRENT`` naming a complete snapshot.
Unchanged tables are hard-linked from the previous snapshot, so a delta costs what it changes.

A read goes through a :class:`Snapshot` pinned to one name: every table it loads comes from that
snapshot, so an answer never mixes two versions. Tables load on first use, and per-column indexes
(sorted codes and their row order) are built on first use, so a lookup by id touches only its
rows. Snapshots stay on disk for ``retain_s`` after they stop being current, long enough for any
reader that pinned one to finish.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from graph.errors import StoreLocked, StoreUnavailable
from graph.store import lock_owner
from graph.tables import (
    ADDITIVE,
    ARTIFACT_ENDPOINTS,
    KEYS,
    REPLACED,
    SCHEMAS,
    GraphDelta,
    Table,
    check_read,
    conform,
    merge_additive,
    with_columns_of,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

FORMAT_VERSION = 3
"""The snapshot layout. 3: per-intent preferences one row per cell (2 held lists per pair). A column
added to a table reads as nulls from older snapshots of the same format; a changed layout bumps
this, and a store in another format is refused with what to do."""
CODE = pl.UInt32
ARTIFACT, INTENT = "artifact", "intent"
ID_COLUMNS: dict[Table, dict[str, str]] = {
    table: dict.fromkeys(columns, ARTIFACT) for table, columns in ARTIFACT_ENDPOINTS.items()
}
ID_COLUMNS[Table.INTENTS] = {"id": INTENT}
ID_COLUMNS[Table.MATCHED] = {"intent": INTENT, "artifact": ARTIFACT}
ID_COLUMNS[Table.INTENT_PREFERENCES] = {"intent": INTENT, "winner": ARTIFACT, "loser": ARTIFACT}
ID_COLUMNS[Table.SEEKS] = {"intent": INTENT}
"""The columns stored as codes, and the dictionary each one's codes index."""
SMALL_PROBE = 2_000
"""Lookups of up to this many values go through a Python dict; more through a polars join."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


class _Dictionary:
    """Ids by code: ``ids[code]``. Grows only by appending, so old codes keep their meaning."""

    def __init__(self, ids: pl.Series) -> None:
        self.ids = ids.cast(pl.String).rename("id").rechunk()  # a gather from one chunk is the cheap kind
        self._dict: dict[str, int] | None = None
        self._ids_list: list[str] | None = None
        self._frame: pl.DataFrame | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.ids.len()

    def known(self) -> dict[str, int]:
        """Id -> code as a Python dict (built once), for lookups of a few ids."""
        return self._python()

    def _python(self) -> dict[str, int]:
        with self._lock:
            if self._dict is None:
                self._dict = dict(zip(self.ids.to_list(), range(self.ids.len()), strict=True))
            return self._dict

    def _joinable(self) -> pl.DataFrame:
        with self._lock:
            if self._frame is None:
                self._frame = self.ids.to_frame().with_row_index("code").with_columns(pl.col("code").cast(CODE))
            return self._frame

    def codes(self, values: pl.Series | Sequence[str]) -> pl.Series:
        """The code of each value, null where the dictionary does not hold it."""
        series = values if isinstance(values, pl.Series) else pl.Series(list(values), dtype=pl.String)
        if series.len() <= SMALL_PROBE:
            known = self._python()
            return pl.Series("code", [known.get(v) for v in series.to_list()], dtype=CODE)
        frame = series.cast(pl.String).rename("id").to_frame()
        return frame.join(self._joinable(), on="id", how="left", maintain_order="left").get_column("code")

    def grown(self, values: pl.Series) -> _Dictionary:
        """This dictionary with the values it lacks appended (in sorted order, so the result is a
        function of the data, not of arrival order within one write)."""
        fresh = values.drop_nulls().unique()
        if self.ids.len():
            fresh = fresh.to_frame("id").join(self._joinable(), on="id", how="anti").get_column("id")
        if fresh.len() == 0:
            return self
        return _Dictionary(pl.concat([self.ids, fresh.sort()]))

    def _list(self) -> list[str]:
        with self._lock:
            if self._ids_list is None:
                self._ids_list = self.ids.to_list()
            return self._ids_list

    def decode(self, codes: pl.Series) -> pl.Series:
        """The ids of ``codes``. A few are looked up in a Python list: a polars gather from a
        string column costs about 0.1 ms whatever its length, which a page of reads pays dozens
        of times."""
        if codes.len() <= SMALL_PROBE:
            ids = self._list()
            return pl.Series(self.ids.name, [None if c is None else ids[c] for c in codes.to_list()], dtype=pl.String)
        return self.ids.gather(codes)


class _Index:
    """Where each value of one column sits: the values sorted, and the rows they are in.

    Kept as numpy arrays: a lookup of a few ids is two binary searches and one gather, with no
    per-call cost of building a query plan (which is most of a small polars operation's time).
    """

    def __init__(self, column: pl.Series) -> None:
        values = column.to_numpy(allow_copy=True)
        if column.is_sorted():
            self.keys, self.order = values, None
        else:
            order = column.arg_sort(nulls_last=True).to_numpy()
            self.keys, self.order = values[order], order

    def rows(self, values: np.ndarray) -> np.ndarray:
        """Row positions holding any of ``values`` (each once per matching row)."""
        if values.size == 0 or self.keys.size == 0:
            return np.zeros(0, dtype=np.int64)
        values = np.unique(values)
        lo = np.searchsorted(self.keys, values, side="left")
        hi = np.searchsorted(self.keys, values, side="right")
        lengths = hi - lo
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        # the runs [lo, hi) laid end to end: each position is its run's start plus its rank in it
        starts = np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
        spans = starts + np.arange(total)
        return spans if self.order is None else self.order[spans]


def _union(parts: list[np.ndarray], height: int) -> np.ndarray:
    """The row positions in any of ``parts``, each once, in table order. A small set is sorted; a
    large one (a hub's co-matches) is marked in a mask over the table, which costs one pass."""
    total = sum(p.size for p in parts)
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    if len(parts) == 1 and total * 64 < height:
        return np.sort(parts[0])
    if total * 64 < height:
        return np.unique(np.concatenate(parts))
    mask = np.zeros(height, dtype=bool)
    for part in parts:
        mask[part] = True
    return np.flatnonzero(mask)


class Snapshot:
    """A :class:`graph.store.Reader` over one snapshot: lazily loaded tables, lazily built indexes."""

    def __init__(self, folder: Path | None, name: str) -> None:
        self.folder = folder
        self.name = name
        self._coded: dict[Table, pl.DataFrame] = {}
        self._dicts: dict[str, _Dictionary] = {}
        self._indexes: dict[tuple[Table, str], _Index] = {}
        self._one_chunk: set[Table] = set()
        self._lock = threading.RLock()

    @property
    def version(self) -> str:
        return self.name

    # -- loading -------------------------------------------------------------------------------
    def dictionary(self, domain: str) -> _Dictionary:
        with self._lock:
            found = self._dicts.get(domain)
            if found is None:
                path = self.folder / f"ids-{domain}.parquet" if self.folder else None
                ids = pl.read_parquet(path).get_column("id") if path and path.exists() else pl.Series(
                    "id", [], dtype=pl.String)
                found = self._dicts[domain] = _Dictionary(ids)
            return found

    def coded(self, table: Table) -> pl.DataFrame:
        """The table as stored: id columns as codes."""
        with self._lock:
            frame = self._coded.get(table)
            if frame is None:
                frame = _empty_coded(table)
                path = self.folder / f"{table.value}.parquet" if self.folder else None
                if path is not None and path.exists():
                    frame = _evolved(pl.read_parquet(path), frame)
                self._coded[table] = frame
            return frame

    def _gatherable(self, table: Table) -> pl.DataFrame:
        """The table in one chunk per column, for lookups: a gather of a few rows from a list
        column spread over chunks costs milliseconds, from one chunk microseconds. (Done on the
        first lookup, not on load: a scoring run reads whole tables and needs no copy.)"""
        with self._lock:
            if table not in self._one_chunk:
                self._coded[table] = self.coded(table).rechunk()
                self._one_chunk.add(table)
            return self._coded[table]

    def _index(self, table: Table, column: str) -> _Index:
        with self._lock:
            index = self._indexes.get((table, column))
            if index is None:
                index = self._indexes[(table, column)] = _Index(self.coded(table).get_column(column))
            return index

    # -- reads ---------------------------------------------------------------------------------
    def table(self, table: Table, ids: Sequence[str] | None = None, *, by: str | None = None,
              columns: Sequence[str] | None = None) -> pl.DataFrame:
        check_read(table, ids, by, columns)
        frame = self.coded(table) if ids is None else self._gatherable(table)
        if columns is not None:
            frame = with_columns_of(table, frame, columns)
        if ids is not None:
            wanted = [str(v) for v in ids]
            lookup = list(ARTIFACT_ENDPOINTS[table]) if by is None else [by]
            parts = [self._index(table, column).rows(self._probe(table, column, wanted)) for column in lookup]
            rows = _union(parts, frame.height)
            if rows.size == 0 or int(rows[-1]) - int(rows[0]) + 1 == rows.size:
                # none, or one run (a table sorted by the column): a slice, which costs no gather
                frame = frame.slice(int(rows[0]) if rows.size else 0, rows.size)
            else:
                frame = frame[pl.Series(rows, dtype=pl.UInt32)]
        return self.decoded(table, frame)

    def _probe(self, table: Table, column: str, values: list[str]) -> np.ndarray:
        """The values to look for in the column's index: codes for id columns (ids the dictionary
        does not hold are in no row), the text itself otherwise."""
        domain = ID_COLUMNS.get(table, {}).get(column)
        if domain is None:
            return np.array(values, dtype=object)
        known = self.dictionary(domain).known()
        return np.array([known[v] for v in values if v in known], dtype=np.uint32)

    def decoded(self, table: Table, frame: pl.DataFrame) -> pl.DataFrame:
        """A stored frame with its code columns turned back into ids."""
        coded = {c: d for c, d in ID_COLUMNS.get(table, {}).items() if c in frame.columns}
        if not coded:
            return frame
        frame = frame.clone()  # shares the columns; replacing one is cheap, unlike a with_columns plan
        for column, domain in coded.items():
            frame.replace_column(frame.get_column_index(column),
                                 self.dictionary(domain).decode(frame.get_column(column)).alias(column))
        return frame

    def tables(self, tables: Sequence[Table], ids: Sequence[str]) -> dict[Table, pl.DataFrame]:
        return {table: self.table(table, ids) for table in tables}


def _evolved(stored: pl.DataFrame, empty: pl.DataFrame) -> pl.DataFrame:
    """A stored table in today's schema: a column added since the snapshot was written reads as
    nulls (a snapshot of an older matchgraph stays readable until the next write replaces it)."""
    missing = [c for c in empty.columns if c not in stored.columns]
    if not missing:
        return stored
    return stored.with_columns(pl.lit(None, empty.schema[c]).alias(c) for c in missing).select(
        [*empty.columns, *[c for c in stored.columns if c not in empty.columns]])


def _empty_coded(table: Table) -> pl.DataFrame:
    schema = dict(SCHEMAS[table])
    for column in ID_COLUMNS.get(table, {}):
        schema[column] = CODE()
    return pl.DataFrame(schema=schema)


class EmbeddedStore:
    """A :class:`graph.store.GraphStore` on polars tables persisted as Parquet snapshots."""

    kind = "embedded"
    one_file_per_write: bool = False

    def __init__(self, home: Path, *, lock_timeout_s: float = 30.0, retain_s: float = 600.0) -> None:
        self.root = Path(home) / "embedded"
        self.lock_timeout_s = lock_timeout_s
        self.retain_s = retain_s
        try:
            (self.root / "snapshots").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreUnavailable(f"cannot create the store under {self.root}: {e.strerror}") from e
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    # -- snapshots -------------------------------------------------------------------------
    def _current_name(self) -> str:
        try:
            return (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return ""
        except OSError as e:
            raise StoreUnavailable(f"cannot read the store at {self.root}: {e.strerror}") from e

    def snapshot(self, name: str | None = None) -> Snapshot:
        """The snapshot ``name`` (the current one by default), loaded at most once per process."""
        name = self._current_name() if name is None else name
        with self._lock:
            found = self._snapshots.get(name)
            if found is None:
                folder = self.root / "snapshots" / name if name else None
                if folder is not None:
                    _check_format(folder)
                found = self._remember(Snapshot(folder, name))
            return found

    def _remember(self, snapshot: Snapshot) -> Snapshot:
        """Keep ``snapshot`` and the one before it (readers may still hold that); call under the lock."""
        self._snapshots = dict(list(self._snapshots.items())[-1:])
        self._snapshots[snapshot.name] = snapshot
        return snapshot

    @contextmanager
    def reader(self, *, bulk: bool = False) -> Iterator[Snapshot]:
        del bulk  # every read of a snapshot is local
        yield self.snapshot()

    def table(self, table: Table, ids: Sequence[str] | None = None, *, by: str | None = None,
              columns: Sequence[str] | None = None) -> pl.DataFrame:
        return self.snapshot().table(table, ids, by=by, columns=columns)

    def version(self) -> str:
        """The live snapshot's name: every write publishes a new one."""
        return self._current_name()

    # -- locks ---------------------------------------------------------------------------------
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

    # -- writes --------------------------------------------------------------------------------
    def apply(self, delta: GraphDelta) -> None:
        if not delta.tables and not delta.removals:
            return
        with self._write_lock():
            base = self.snapshot()
            dicts = {domain: _grown(base, delta, domain) for domain in (ARTIFACT, INTENT)}
            merged = {table: _merged(table, base.coded(table), _encode(table, frame, dicts))
                      for table, frame in delta.tables.items()}
            for table, keys in delta.removals.items():
                if table is Table.CAPABILITIES:
                    merged.update(_without_capabilities(base, merged, keys))
                    continue
                frame = merged.get(table, base.coded(table))
                merged[table] = _without(table, frame, keys, dicts)
            self._publish(base, merged, dicts)

    def clear(self) -> None:
        with self._write_lock():
            base = self.snapshot()
            empty_dicts = {d: _Dictionary(pl.Series("id", [], dtype=pl.String)) for d in (ARTIFACT, INTENT)}
            self._publish(base, {table: _empty_coded(table) for table in Table}, empty_dicts)

    def _publish(self, base: Snapshot, tables: dict[Table, pl.DataFrame], dicts: dict[str, _Dictionary]) -> str:
        previous = base.name or None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{secrets.token_hex(3)}"
        snapshots = self.root / "snapshots"
        tmp = snapshots / f".tmp-{name}"
        tmp.mkdir()
        rows: dict[str, int] = {}
        for table in Table:
            target = tmp / f"{table.value}.parquet"
            frame = tables.get(table)
            old = base.folder / f"{table.value}.parquet" if base.folder else None
            if frame is None and old is not None and old.exists():
                os.link(old, target)
                rows[table.value] = base.coded(table).height
                continue
            if frame is None:
                frame = _empty_coded(table)
            frame.write_parquet(target, compression="zstd", statistics=True)
            _fsync_file(target)
            rows[table.value] = frame.height
        for domain, dictionary in dicts.items():
            target = tmp / f"ids-{domain}.parquet"
            old = base.folder / f"ids-{domain}.parquet" if base.folder else None
            if dictionary is base.dictionary(domain) and old is not None and old.exists():
                os.link(old, target)
                continue
            dictionary.ids.to_frame().write_parquet(target, compression="zstd", statistics=False)
            _fsync_file(target)
        manifest = {"format": FORMAT_VERSION, "previous": previous, "rows": rows}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        _fsync_dir(tmp)
        os.rename(tmp, snapshots / name)
        _fsync_dir(snapshots)
        pointer = self.root / "CURRENT.tmp"
        pointer.write_text(name + "\n")
        _fsync_file(pointer)
        os.replace(pointer, self.root / "CURRENT")
        _fsync_dir(self.root)
        # the new snapshot starts with what this process already holds: nothing is read back
        fresh = Snapshot(snapshots / name, name)
        fresh._dicts = dict(dicts)
        fresh._coded = {**{t: f for t, f in base._coded.items() if t not in tables}, **tables}
        with self._lock:
            self._remember(fresh)
        self._collect_garbage(name)
        return name

    def _collect_garbage(self, current: str) -> None:
        """Remove snapshots that stopped being current more than ``retain_s`` ago (a snapshot
        stops being current when the next one is published, and names sort by creation time)."""
        folder = self.root / "snapshots"
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".tmp-"))
        now = datetime.now(UTC)
        for older, newer in zip(names, names[1:], strict=False):
            if newer == current or older == current:  # the current one and its predecessor stay
                continue
            replaced_at = _created(newer)
            if replaced_at is None or (now - replaced_at).total_seconds() >= self.retain_s:
                shutil.rmtree(folder / older, ignore_errors=True)
        for stale in folder.glob(".tmp-*"):
            if stale.name != f".tmp-{current}":
                shutil.rmtree(stale, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._snapshots = {}


def _created(name: str) -> datetime | None:
    try:
        return datetime.strptime(name.split("-", 1)[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    except ValueError:
        return None


def _check_format(folder: Path) -> None:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        raise StoreUnavailable(f"the snapshot {folder} cannot be read: {e}") from e
    if manifest.get("format") != FORMAT_VERSION:
        raise StoreUnavailable(
            f"the store at {folder.parent.parent} is in format {manifest.get('format')}, this matchgraph reads "
            f"format {FORMAT_VERSION}",
            hint="re-ingest the catalog and log files into a new MATCHGRAPH_HOME",
        )


def _grown(base: Snapshot, delta: GraphDelta, domain: str) -> _Dictionary:
    values = [frame.get_column(column) for table, frame in delta.tables.items()
              for column, d in ID_COLUMNS.get(table, {}).items() if d == domain]
    dictionary = base.dictionary(domain)
    return dictionary.grown(pl.concat(values)) if values else dictionary


def _encode(table: Table, frame: pl.DataFrame, dicts: dict[str, _Dictionary]) -> pl.DataFrame:
    columns = ID_COLUMNS.get(table, {})
    frame = conform(table, frame)
    return frame.with_columns(dicts[domain].codes(frame.get_column(column)).alias(column)
                              for column, domain in columns.items())


def _merged(table: Table, old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """The stored table after ``new`` (coded) is applied, with ``GraphDelta``'s semantics."""
    keys = list(KEYS[table])
    if table in ADDITIVE:
        return merge_additive(table, old, new)
    if table is Table.ARTIFACTS:
        return _merge_artifacts(old, new)
    if table is Table.HAS_CAPABILITY:
        kept = old.join(new.select("artifact").unique(), on="artifact", how="anti")
        return pl.concat([kept, new.unique(keys, keep="last")]).sort(["artifact", "position"])
    if table in REPLACED:
        return new.unique(keys, keep="last").sort(keys)
    if table is Table.BENCHMARKS:
        kept = old.join(new.select("artifact").unique(), on="artifact", how="anti")
        return pl.concat([kept, new.unique(keys, keep="last")]).sort(keys)
    if table in (Table.RANK_HISTORY, Table.LEDGER, Table.RUNS):
        return pl.concat([old, new]).unique(keys, keep="first", maintain_order=True)
    # node and link tables: upsert by key, the newest row wins
    return pl.concat([old, new]).unique(keys, keep="last").sort(keys)


def _without(table: Table, frame: pl.DataFrame, keys: list[str], dicts: dict[str, _Dictionary]) -> pl.DataFrame:
    """``frame`` less the rows ``GraphDelta.removals`` names (stub artifacts only, never catalogued)."""
    if table is Table.LEDGER:
        return frame.filter(~pl.col("sha256").is_in(pl.Series(keys, dtype=pl.String).implode()))
    codes = dicts[ARTIFACT].codes(pl.Series(keys, dtype=pl.String)).drop_nulls()
    return frame.filter(~(pl.col("id").is_in(codes.implode()) & ~pl.col("catalogued").fill_null(False)))


def _without_capabilities(base: Snapshot, merged: dict[Table, pl.DataFrame],
                          keys: list[str]) -> dict[Table, pl.DataFrame]:
    """The capability table less the named capabilities no statement names any more, and the seeks
    and capability-board rows of those that go (see ``GraphDelta.removals``)."""
    def current(table: Table) -> pl.DataFrame:
        return merged.get(table, base.coded(table))

    used = current(Table.HAS_CAPABILITY).get_column("capability").unique()
    gone = pl.Series(keys, dtype=pl.String).filter(~pl.Series(keys, dtype=pl.String).is_in(used.implode()))
    if gone.len() == 0:
        return {}
    out = {Table.CAPABILITIES: current(Table.CAPABILITIES).filter(~pl.col("id").is_in(gone.implode()))}
    seeks = current(Table.SEEKS)
    if seeks.height:
        out[Table.SEEKS] = seeks.filter(~pl.col("capability").is_in(gone.implode()))
    boards = current(Table.BOARDS)
    if boards.height:
        out[Table.BOARDS] = boards.filter(~((pl.col("kind") == "capability") & pl.col("need").is_in(gone.implode())))
    return out


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

