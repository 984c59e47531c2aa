"""Ingesting files into a store: ledger check, read, validate, aggregate, one atomic write per file.

Every file is identified by the SHA-256 of its bytes. A file whose hash is in the store's ledger
was ingested before and is skipped, so re-running the same input changes nothing; its delta and
its ledger row are written in the same atomic ``apply``, so a crash never leaves a file half
counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from graph.errors import InvalidInput
from graph.tables import Table
from ingest.aggregate import Aggregator
from ingest.catalog import catalog_delta, read_catalog
from ingest.files import check_readable, sha256_of
from ingest.logs import SeenIds, read_logs
from ingest.rejects import Rejects

SESSION_BLOCK = 20_000
"""Lines read and aggregated at a time, the same on every store: distinct sessions are counted
within such a block, so both stores (and any size of Neo4j write part) count them alike."""

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from graph.settings import Settings
    from graph.store import GraphStore


@dataclass
class FileReport:
    source: str
    sha256: str
    status: str  # "ingested" or "skipped: already ingested"
    read: int = 0
    ingested: int = 0
    rejected: int = 0


@dataclass
class IngestReport:
    kind: str
    files: list[FileReport] = field(default_factory=list)
    rejects_path: Path | None = None

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def ingested(self) -> int:
        return sum(f.ingested for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def summary(self) -> str:
        skipped = sum(1 for f in self.files if f.status != "ingested")
        text = (f"{self.kind}: {len(self.files)} file(s), read {self.read}, ingested {self.ingested}, "
                f"rejected {self.rejected}")
        if skipped:
            text += f", {skipped} file(s) skipped as already ingested"
        if self.rejects_path:
            text += f"; rejects in {self.rejects_path}"
        return text


def _ledger_row(source: Path, sha: str, kind: str, size: int, rows: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"sha256": [sha], "source": [str(source)], "kind": [kind], "size": [size], "rows": [rows],
         "ingested_at": [datetime.now(UTC)]}
    )


def _ingest(
    store: GraphStore,
    paths: Sequence[Path],
    settings: Settings,
    kind: str,
    write_file: Callable[[Path, str, int, Rejects, set[str]], int],
    on_file: Callable[[FileReport], None] | None = None,
) -> IngestReport:
    """The loop both kinds share: size checks, the ledger check, counts, the rejects file.

    ``write_file(path, sha256, size, rejects, known)`` reads one new file, writes what it holds
    together with its ledger row(s), and returns how many records it ingested.
    """
    report = IngestReport(kind=kind)
    rejects = Rejects()
    sizes = {path: check_readable(path, settings.max_input_bytes) for path in paths}
    known = set(store.table(Table.LEDGER).get_column("sha256").to_list())
    for path in paths:
        sha = sha256_of(path)
        if sha in known:
            report.files.append(FileReport(str(path), sha, "skipped: already ingested"))
            if on_file:
                on_file(report.files[-1])
            continue
        before = len(rejects)
        ingested = write_file(path, sha, sizes[path], rejects, known)
        rejected = len(rejects) - before
        if ingested:
            known.add(sha)
        report.files.append(FileReport(str(path), sha, "ingested" if ingested else "nothing valid",
                                       ingested + rejected, ingested, rejected))
        if on_file:
            on_file(report.files[-1])
    return _finish(report, rejects, settings)


def _finish(report: IngestReport, rejects: Rejects, settings: Settings) -> IngestReport:
    """Write the rejects file, and fail when the files that were read held nothing valid."""
    if len(rejects):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        report.rejects_path = rejects.write(Path(settings.home) / "rejects" / f"{stamp}-{report.kind}.jsonl")
    fresh = [f for f in report.files if f.status != "skipped: already ingested"]
    if fresh and not any(f.ingested for f in fresh):
        raise InvalidInput(f"nothing valid was read from {len(fresh)} {report.kind} file(s); " + report.summary())
    return report


def ingest_catalogs(store: GraphStore, paths: Sequence[Path], settings: Settings,
                    fmt: str | None = None, on_file: Callable[[FileReport], None] | None = None) -> IngestReport:
    def write_file(path: Path, sha: str, size: int, rejects: Rejects, _known: set[str]) -> int:
        artifacts, _ = read_catalog(path, rejects, fmt)
        if artifacts:
            store.apply(catalog_delta(artifacts).set(Table.LEDGER, _ledger_row(path, sha, "catalog", size,
                                                                               len(artifacts))))
        return len(artifacts)

    return _ingest(store, paths, settings, "catalog", write_file, on_file)


def ingest_logs(store: GraphStore, paths: Sequence[Path], settings: Settings,
                fmt: str | None = None, on_file: Callable[[FileReport], None] | None = None) -> IngestReport:
    """Ingest search logs, each file in parts of at most ``store.max_searches_per_write`` searches.

    Every part but the last is written with a ledger row ``<sha256>:<part>``; the last part is
    written with the file's own ``<sha256>`` row. After a crash, a rerun reads the file again,
    skips the parts the ledger holds, and writes the rest: no search is counted twice or lost.
    """
    seen = SeenIds()
    per_write = store.max_searches_per_write or 0

    def write_file(path: Path, sha: str, size: int, rejects: Rejects, known: set[str]) -> int:
        acc, part, ingested = Aggregator(), 0, 0
        for frame in read_logs(path, rejects, seen, fmt, SESSION_BLOCK):
            acc.add(frame)
            if per_write and acc.searches >= per_write:
                key = f"{sha}:{part}"
                if key not in known:
                    part_row = _ledger_row(path, key, "logs-part", size, acc.searches)
                    store.apply(acc.delta().set(Table.LEDGER, part_row))
                    known.add(key)
                ingested += acc.searches
                acc, part = Aggregator(), part + 1
        ingested += acc.searches
        if ingested:
            store.apply(acc.delta().set(Table.LEDGER, _ledger_row(path, sha, "logs", size, ingested)))
        return ingested

    return _ingest(store, paths, settings, "logs", write_file, on_file)
