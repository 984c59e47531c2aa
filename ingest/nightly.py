"""The nightly job: take in exactly the new catalog and log files, rescore, record the run.

Every file is known by the SHA-256 of its bytes. A file already in the ledger is skipped; a file
whose path was ingested before with other bytes is reported as changed and left out (its old
counts stay; re-counting it would double count whatever it shares with the old version). New
files go in through :mod:`ingest.pipeline`, whose writes are atomic and carry their files' ledger
rows, so a run killed at any moment is completed by the next one with no search counted twice or
lost. A file that cannot be used fails alone: the run records it with its reason and goes on.
Scores are recomputed when anything was ingested, or when the ledger is newer than the last
scores (a run killed between ingesting and scoring); how to rescore is given by the caller (the
application object), since scoring belongs to ``queries``. One writer at a time: the caller holds
the store's writer lock for the whole run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from graph.errors import InvalidInput
from graph.tables import GraphDelta, Table
from ingest.files import sha256_of
from ingest.pipeline import SKIPPED, FileReport, IngestReport, files_in, ingest_catalogs, ingest_logs

if TYPE_CHECKING:
    from collections.abc import Callable

    from graph.settings import Settings
    from graph.store import GraphStore


@dataclass
class RunReport:
    run: str
    started_at: datetime
    ended_at: datetime | None = None
    files: int = 0
    skipped: int = 0
    changed: list[str] = field(default_factory=list)
    read: int = 0
    ingested: int = 0
    rejected: int = 0
    rescored: bool = False
    rejects: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Files not taken in, each as ``path: reason`` (also in the rejects file, line 0)."""
    steps: dict[str, float] = field(default_factory=dict)
    """Seconds each step took: finding the files, the catalog, the logs, the rescore."""

    @property
    def duration_s(self) -> float:
        end = self.ended_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()

    def summary(self) -> str:
        text = (f"run {self.run}: {self.files} new file(s), {self.skipped} already ingested, "
                f"{len(self.changed)} changed; read {self.read}, ingested {self.ingested}, "
                f"rejected {self.rejected}; {'rescored' if self.rescored else 'scores unchanged'}; "
                f"{self.duration_s:.1f} s")
        if self.steps:
            text += " (" + ", ".join(f"{name} {took:.1f} s" for name, took in self.steps.items()) + ")"
        if self.failed:
            text += f"; {len(self.failed)} file(s) failed: {'; '.join(self.failed[:3])}"
        if self.rejects:
            text += f"; rejects in {', '.join(self.rejects)}"
        return text

    def row(self) -> pl.DataFrame:
        return pl.DataFrame([{
            "run": self.run, "started_at": self.started_at, "ended_at": self.ended_at, "files": self.files,
            "skipped": self.skipped, "changed": len(self.changed), "read": self.read, "ingested": self.ingested,
            "rejected": self.rejected, "duration_s": round(self.duration_s, 3), "rescored": self.rescored,
            "rejects": "; ".join(self.rejects) or None, "failed": len(self.failed),
        }])


def _add(report: RunReport, part: IngestReport) -> None:
    report.files += sum(1 for f in part.files if f.status != SKIPPED)
    report.skipped += sum(1 for f in part.files if f.status == SKIPPED)
    report.failed += [f"{f.source}: {f.status.removeprefix('failed: ')}" for f in part.failed]
    report.read += part.read
    report.ingested += part.ingested
    report.rejected += part.rejected
    if part.rejects_path:
        report.rejects.append(str(part.rejects_path))


def _hash(path: Path) -> str:
    try:
        return sha256_of(path)
    except OSError:
        return ""  # unreadable now: reported as changed; the ingest itself says why it cannot be read


def _one_rejects_file(report: RunReport, settings: Settings) -> None:
    """Gather the run's rejects (catalog and logs) into ``rejects/run-<id>.jsonl``."""
    if not report.rejects:
        return
    target = Path(settings.home) / "rejects" / f"run-{report.run}.jsonl"
    with open(target, "w", encoding="utf-8") as out:
        for name in report.rejects:
            part = Path(name)
            out.write(part.read_text(encoding="utf-8"))
            part.unlink()
    report.rejects = [str(target)]


def run_nightly(store: GraphStore, settings: Settings, catalogs: Path | None, logs: Path | None,
                rescore: Callable[[], str], say: Callable[[str], None],
                progress: Callable[[int], Callable[[FileReport], None]] | None = None) -> RunReport:
    """One nightly run over the files in ``catalogs`` and ``logs`` (either may be None).

    ``rescore()`` scores the graph and returns a line saying so; ``progress(total_files)`` returns
    the callback told about each file as it is done. The caller holds the writer lock.
    """
    started = datetime.now(UTC)
    report = RunReport(run=started.strftime("%Y%m%dT%H%M%S%fZ"), started_at=started)
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.steps[name] = now - clock
        clock = now

    for folder in (catalogs, logs):
        if folder is not None and not folder.is_dir():
            raise InvalidInput(f"{folder} is not a folder")
    ledger = store.table(Table.LEDGER).filter(pl.col("kind").is_in(["catalog", "logs"]))
    known = set(ledger.get_column("sha256").to_list())
    seen_sources = set(ledger.get_column("source").to_list())
    batches: dict[str, list[Path]] = {"catalog": [], "logs": []}
    for kind, folder in (("catalog", catalogs), ("logs", logs)):
        if folder is None:
            continue
        taken, left_out = files_in(folder, settings.nightly_settle_s)
        for path, reason in left_out:
            say(f"not taken in: {path}: {reason}")
            if "left for the next run" not in reason:
                report.failed.append(f"{path}: {reason}")
        for path in taken:
            if str(path) in seen_sources and _hash(path) not in known:
                report.changed.append(str(path))
                say(f"changed since it was ingested, not re-counted: {path}")
                continue
            batches[kind].append(path)
    on_file = progress(len(batches["catalog"]) + len(batches["logs"])) if progress else None
    step("finding files")
    for kind, ingest in (("catalog", ingest_catalogs), ("logs", ingest_logs)):
        if not batches[kind]:
            continue
        try:
            part = ingest(store, batches[kind], settings, None, on_file)
        except InvalidInput as e:  # nothing valid in the new files: counted, the run goes on
            say(f"{kind}: {e}")
            report.rejected += 1
            continue
        finally:
            step(kind)
        _add(report, part)
        say(part.summary())
    _one_rejects_file(report, settings)
    last_scored = store.table(Table.RANK_HISTORY).get_column("scored_at").max()
    last_ingested = store.table(Table.LEDGER).get_column("ingested_at").max()
    stale = last_ingested is not None and (last_scored is None or last_ingested > last_scored)  # type: ignore[operator]
    if report.ingested or stale:
        say(rescore())
        report.rescored = True
        step("rescore")
    report.ended_at = datetime.now(UTC)
    store.apply(GraphDelta().set(Table.RUNS, report.row()))
    return report
