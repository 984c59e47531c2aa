"""Ingesting files into a store: the ledger check, a stable copy, read, aggregate, batched writes.

Every file is identified by the SHA-256 of its bytes. A file whose hash is in the store's ledger was
ingested before and is skipped, so re-running the same input changes nothing. The caller holds the
store's writer lock for the whole call, so the ledger check and the writes it decides cannot
interleave with another writer's.

A file is the unit of failure: one that cannot be read, decoded or parsed (``BadFile``) goes to the
rejects with its reason (line 0) and the others go on. What is read is a private copy of the file,
taken while its size and modification time stay put (a file being appended to is copied again, and
refused after a second change), so the bytes counted are exactly the bytes hashed.

Writes are batched: the aggregates of many log files go to the store in one atomic write, together
with the ledger rows of every file they hold (so 10,000 small files make one snapshot, not 10,000),
up to ``MATCHGRAPH_WRITE_BATCH_SEARCHES`` searches per write. A store that writes big deltas in parts
(``one_file_per_write``: Neo4j, whose transactions live in the server's heap) gets one file per
write instead, and cuts it into parts named after the file's hash, so that after a crash the next
run skips the parts already written (``graph.neo4j_store``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from graph.errors import BadFile, InvalidInput
from graph.limits import ReadLimits
from graph.tables import GraphDelta, Table
from ingest.aggregate import Aggregator
from ingest.catalog import catalog_delta, read_catalog
from ingest.logs import SeenIds, read_logs
from ingest.rejects import Rejects

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from graph.schema import Artifact
    from graph.settings import Settings
    from graph.store import GraphStore

BLOCK_LINES = 20_000
"""Lines read and aggregated at a time: a bound on memory, not on what is counted (a file's distinct
sessions are counted over the whole file, ``ingest.aggregate.Aggregator.settle_sessions``)."""
INGESTED, SKIPPED, NOTHING_VALID = "ingested", "skipped: already ingested", "nothing valid"
FAILED = "failed"


@dataclass
class FileReport:
    source: str
    sha256: str
    status: str
    """``ingested``, ``skipped: already ingested``, ``nothing valid`` or ``failed: <reason>``."""
    read: int = 0
    ingested: int = 0
    rejected: int = 0

    @property
    def failed(self) -> bool:
        return self.status.startswith(FAILED)


@dataclass
class IngestReport:
    kind: str
    files: list[FileReport] = field(default_factory=list)
    rejects_path: Path | None = None
    writes: int = 0
    """How many atomic writes (snapshots on the embedded store) the files took."""

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def ingested(self) -> int:
        return sum(f.ingested for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.failed]

    def summary(self) -> str:
        skipped = sum(1 for f in self.files if f.status == SKIPPED)
        text = (f"{self.kind}: {len(self.files)} file(s), read {self.read}, ingested {self.ingested}, "
                f"rejected {self.rejected}")
        if skipped:
            text += f", {skipped} file(s) skipped as already ingested"
        empty = sum(1 for f in self.files if f.status == NOTHING_VALID)
        if empty:
            text += f", {empty} file(s) with nothing valid"
        if self.failed:
            text += f", {len(self.failed)} file(s) failed ({'; '.join(f.status for f in self.failed[:3])})"
        if self.rejects_path:
            text += f"; rejects in {self.rejects_path}"
        return text


def _ledger_row(source: Path, sha: str, kind: str, size: int, rows: int) -> dict[str, object]:
    return {"sha256": sha, "source": str(source), "kind": kind, "size": size, "rows": rows,
            "ingested_at": datetime.now(UTC)}


def _ledger(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"sha256": pl.String, "source": pl.String, "kind": pl.String,
                                      "size": pl.Int64, "rows": pl.Int64, "ingested_at": pl.Datetime("us", "UTC")})


def _signature(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns, info.st_ino


class StableCopy:
    """Private copies of input files, each taken while the original stays unchanged."""

    def __init__(self, settings: Settings) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ingest-", dir=_work_dir(settings)))
        self.taken = 0

    def take(self, path: Path, max_bytes: int) -> tuple[Path, str, int]:
        """A copy of ``path``, its SHA-256 and size; ``BadFile`` if it cannot be read, is too big, or
        keeps changing while it is copied."""
        for _attempt in range(2):
            try:
                before = _signature(path)
                if not path.is_file():
                    raise BadFile(path, "not a regular file")
                if before[0] > max_bytes:
                    raise BadFile(path, f"{before[0]} bytes, over the limit of {max_bytes} "
                                        "(MATCHGRAPH_MAX_INPUT_BYTES)")
                self.taken += 1
                target = self.folder / f"{self.taken}-{path.name}"
                digest = hashlib.sha256()
                with open(path, "rb") as source, open(target, "wb") as out:
                    while block := source.read(1 << 20):
                        digest.update(block)
                        out.write(block)
                after = _signature(path)
            except OSError as e:
                raise BadFile(path, f"cannot be read: {e.strerror or e}") from e
            if after == before:
                return target, digest.hexdigest(), before[0]
            target.unlink(missing_ok=True)
        raise BadFile(path, "it changed while it was being read, twice; it is left for the next run")

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _work_dir(settings: Settings) -> Path:
    folder = Path(settings.home) / "work"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _finish(report: IngestReport, rejects: Rejects, settings: Settings) -> IngestReport:
    """Write the rejects file, and fail when the files that were read held nothing valid at all."""
    if len(rejects):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        report.rejects_path = rejects.write(Path(settings.home) / "rejects" / f"{stamp}-{report.kind}.jsonl")
    fresh = [f for f in report.files if f.status != SKIPPED]
    if fresh and not any(f.ingested for f in fresh) and not report.failed:
        raise InvalidInput(f"nothing valid was read from {len(fresh)} {report.kind} file(s); " + report.summary())
    return report


def _failed(report: IngestReport, rejects: Rejects, path: Path, sha: str, error: BadFile) -> FileReport:
    rejects.add(str(path), 0, f"file not ingested: {error.reason}", "")
    done = FileReport(str(path), sha, f"{FAILED}: {error.reason}")
    report.files.append(done)
    return done


def ingest_catalogs(store: GraphStore, paths: Sequence[Path], settings: Settings, fmt: str | None = None,
                    on_file: Callable[[FileReport], None] | None = None) -> IngestReport:
    """Ingest catalog files: every good file's artifacts in one write with their ledger rows."""
    report = IngestReport(kind="catalog")
    rejects = Rejects()
    limits = ReadLimits.from_settings(settings)
    known = set(store.table(Table.LEDGER, columns=["sha256"]).get_column("sha256").to_list())
    copies = StableCopy(settings)
    deltas: list[GraphDelta] = []
    ledger: list[dict[str, object]] = []
    try:
        for path in paths:
            sha = ""
            try:
                copy, sha, size = copies.take(path, limits.max_input_bytes)
                if sha in known:
                    done = FileReport(str(path), sha, SKIPPED)
                    report.files.append(done)
                else:
                    before = len(rejects)
                    artifacts, read = _read_catalog(copy, path, rejects, fmt, limits)
                    done = FileReport(str(path), sha, INGESTED if artifacts else NOTHING_VALID, read,
                                      len(artifacts), len(rejects) - before)
                    report.files.append(done)
                    if artifacts:
                        deltas.append(catalog_delta(artifacts))
                    ledger.append(_ledger_row(path, sha, "catalog", size, len(artifacts)))
                    known.add(sha)
            except BadFile as e:
                done = _failed(report, rejects, path, sha, e)
            if on_file:
                on_file(done)
        if ledger:
            store.apply(combine_catalog_deltas(deltas).set(Table.LEDGER, _ledger(ledger)))
            report.writes += 1
    finally:
        copies.close()
    return _finish(report, rejects, settings)


def combine_catalog_deltas(deltas: Sequence[GraphDelta]) -> GraphDelta:
    """One delta that has the effect of applying ``deltas`` in order (catalog deltas only).

    A later file's non-null fields overwrite an earlier one's, an artifact's capability list is the
    last one given, links and nodes add up, and a stub counts only where no file catalogues the id.
    """
    if len(deltas) == 1:
        return deltas[0]
    out = GraphDelta()
    if not deltas:
        return out
    for table in (Table.PROVIDERS, Table.CAPABILITIES, Table.DERIVED_FROM, Table.INTEGRATES_WITH):
        frames = [d.tables[table] for d in deltas if table in d.tables]
        if frames:
            out.set(table, pl.concat(frames))
    ordered = [d.get(Table.ARTIFACTS).with_columns(pl.lit(n).alias("_order")) for n, d in enumerate(deltas)]
    artifacts = pl.concat(ordered)
    fields = [c for c in artifacts.columns if c not in ("id", "_order", "catalogued")]
    catalogued = (artifacts.filter(pl.col("catalogued")).sort("_order")
                  .group_by("id", maintain_order=True)
                  .agg([pl.col(c).drop_nulls().last() for c in fields])
                  .with_columns(pl.lit(True).alias("catalogued")))
    stubs = artifacts.filter(~pl.col("catalogued")).unique("id", keep="first").join(catalogued.select("id"),
                                                                                    on="id", how="anti")
    out.set(Table.ARTIFACTS, pl.concat([catalogued, stubs.drop("_order")], how="diagonal"))
    has_cap = pl.concat([d.get(Table.HAS_CAPABILITY).with_columns(pl.lit(n).alias("_order"))
                         for n, d in enumerate(deltas)])
    last = has_cap.filter(pl.col("_order") == pl.col("_order").max().over("artifact"))
    if has_cap.height:
        out.set(Table.HAS_CAPABILITY, last.drop("_order"))
    return out


def _read_catalog(copy: Path, path: Path, rejects: Rejects, fmt: str | None,
                  limits: ReadLimits) -> tuple[list[Artifact], int]:
    """The catalog reader over the copy, with rejects naming the original file."""
    local = Rejects()
    artifacts, read = read_catalog(copy, local, fmt, limits)
    rejects.extend(local, source=str(path))
    return artifacts, read


def read_log_file(copy: Path, source: Path, rejects: Rejects, fmt: str | None,
                  limits: ReadLimits) -> Iterator[pl.DataFrame]:
    """The valid searches of one log file (a copy), block by block, with rejects naming the source.

    Repeated search ids are looked for within the file, so what a file contributes does not depend
    on the other files ingested with it (``forget`` reads it alone and must get the same counts).
    """
    local = Rejects()
    try:
        yield from read_logs(copy, local, SeenIds(), fmt, BLOCK_LINES, limits)
    finally:
        rejects.extend(local, source=str(source))


def ingest_logs(store: GraphStore, paths: Sequence[Path], settings: Settings, fmt: str | None = None,
                on_file: Callable[[FileReport], None] | None = None) -> IngestReport:
    """Ingest search logs, many files to a write (see the module docstring)."""
    report = IngestReport(kind="logs")
    rejects = Rejects()
    limits = ReadLimits.from_settings(settings)
    known = set(store.table(Table.LEDGER, columns=["sha256"]).get_column("sha256").to_list())
    batch, ledger = Aggregator(), list[dict[str, object]]()

    def flush() -> None:
        nonlocal batch, ledger
        if ledger:
            store.apply(batch.delta().set(Table.LEDGER, _ledger(ledger)))
            report.writes += 1
        batch, ledger = Aggregator(), []

    copies = StableCopy(settings)
    try:
        for path in paths:
            sha = ""
            try:
                copy, sha, size = copies.take(path, limits.max_input_bytes)
                if sha in known:
                    done = FileReport(str(path), sha, SKIPPED)
                else:
                    before = len(rejects)
                    one = batch.child()
                    for frame in read_log_file(copy, path, rejects, fmt, limits):
                        one.add(frame)
                    searches = one.searches
                    batch.absorb(one)
                    ledger.append(_ledger_row(path, sha, "logs", size, searches))
                    rejected = len(rejects) - before
                    done = FileReport(str(path), sha, INGESTED if searches else NOTHING_VALID, searches + rejected,
                                      searches, rejected)
                    known.add(sha)
                report.files.append(done)
            except BadFile as e:
                done = _failed(report, rejects, path, sha, e)
            if on_file:
                on_file(done)
            if store.one_file_per_write or batch.searches >= settings.write_batch_searches:
                flush()
        flush()
    finally:
        copies.close()
    return _finish(report, rejects, settings)


def files_in(folder: Path, settle_s: float) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The files below ``folder`` to take in, and those left out with the reason.

    Symbolic links are followed only when they point inside the folder: a link out of it (to
    ``/etc/passwd``, say) is refused, never read. Hidden files are skipped, and a file modified
    less than ``settle_s`` ago is left for the next run (it may still be being written).
    """
    root = folder.resolve()
    taken: list[Path] = []
    refused: list[tuple[Path, str]] = []
    now = datetime.now(UTC).timestamp()
    for directory, subdirs, names in os.walk(root, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(directory) / name
            target = path.resolve()
            if path.is_symlink() and not target.is_relative_to(root):
                refused.append((path, f"a link out of {root} (to {target}): not read"))
                continue
            if not target.is_file():
                continue
            try:
                if now - target.stat().st_mtime < settle_s:
                    refused.append((path, f"modified less than {settle_s:g} s ago: left for the next run"))
                    continue
            except OSError as e:
                refused.append((path, f"cannot be read: {e.strerror}"))
                continue
            taken.append(path)
    return taken, refused
