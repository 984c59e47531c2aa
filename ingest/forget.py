"""Taking an ingested file back: its contribution subtracted exactly, as if it had never come.

A log file's contribution is a sum of additive aggregates, so it is read again (it must still be
there with the same bytes: the ledger holds its hash, not its data), aggregated exactly as it was
(the same reader, blocks and rules; repeated search ids are looked for within the file alone),
negated and applied in one atomic write together with the removal of its ledger rows and of the
stub artifacts only it named. A catalog file's records overwrite fields rather than add up, so
there is nothing to subtract: a bad catalog record is taken back by ingesting the corrected record,
and ``forget`` says so for a catalog file.

The caller holds the writer lock and rescores afterwards (scores depend on every count).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from graph.errors import BadFile, InvalidInput, NotFound
from graph.limits import ReadLimits
from graph.tables import ADDITIVE, ARTIFACT_ENDPOINTS, GraphDelta, Table, merge_additive, negated
from ingest.aggregate import Aggregator
from ingest.pipeline import StableCopy, read_log_file
from ingest.rejects import Rejects

if TYPE_CHECKING:
    from graph.settings import Settings
    from graph.store import GraphStore, Reader

_HEX = re.compile(r"^[0-9a-f]{8,64}$")


@dataclass
class ForgetReport:
    sha256: str
    source: str
    kind: str
    searches: int
    """Searches taken back (0 for a catalog file)."""
    stubs_removed: int

    def summary(self) -> str:
        what = f"{self.searches} searches" if self.kind == "logs" else "its catalog records"
        return (f"took back {self.source} ({self.sha256[:12]}): {what}, {self.stubs_removed} stub artifact(s) "
                "no other file names")


def find_file(ledger: pl.DataFrame, target: str) -> dict[str, object]:
    """The ledger row of the file ``target`` names: a SHA-256 (or a prefix of at least 8 hex digits)
    or a path. Parts of a file (``<sha>:<n>``) belong to their file's own row."""
    files = ledger.filter(pl.col("kind").is_in(["catalog", "logs"]))
    text = target.strip().lower()
    by_hash = files.filter(pl.col("sha256").str.starts_with(text)) if _HEX.match(text) else files.head(0)
    resolved = str(Path(target).expanduser().resolve())
    by_path = files.filter(pl.col("source").is_in([target, resolved])).sort("ingested_at")
    found = by_hash if by_hash.height else by_path.tail(1)
    if by_hash.height > 1:
        raise InvalidInput(f"{target!r} starts {by_hash.height} ingested files' hashes; give more of it")
    if found.height == 0:
        recent = files.sort("ingested_at", descending=True).head(3)
        raise NotFound(f"no ingested file is {target!r}",
                       suggestions=[f"{r['sha256'][:12]} {r['source']}" for r in recent.iter_rows(named=True)])
    return found.row(0, named=True)


def forget(store: GraphStore, settings: Settings, target: str) -> ForgetReport:
    ledger = store.table(Table.LEDGER)
    row = find_file(ledger, target)
    sha, source, kind = str(row["sha256"]), str(row["source"]), str(row["kind"])
    if kind == "catalog":
        raise _refuse_catalog(source)
    delta, searches = _contribution(settings, Path(source), sha)
    taken_back = GraphDelta()
    for table, frame in delta.tables.items():
        if table in ADDITIVE:
            taken_back.set(table, negated(table, frame))
    parts = ledger.filter(pl.col("sha256").str.starts_with(f"{sha}:")).get_column("sha256").to_list()
    taken_back.remove(Table.LEDGER, [sha, *parts])
    with store.reader(bulk=True) as reader:
        stubs = _orphaned_stubs(reader, delta)
    if stubs:
        taken_back.remove(Table.ARTIFACTS, stubs)
    store.apply(taken_back)
    return ForgetReport(sha, source, kind, searches, len(stubs))


def _contribution(settings: Settings, path: Path, sha: str) -> tuple[GraphDelta, int]:
    """What the log file added when it was ingested, computed again from its bytes."""
    limits = ReadLimits.from_settings(settings)
    copies = StableCopy(settings)
    try:
        try:
            copy, now, _ = copies.take(path, limits.max_input_bytes)
        except BadFile as e:
            raise BadFile(path, f"{e.reason}; its contribution cannot be computed without its bytes") from e
        if now != sha:
            raise BadFile(path, "its bytes are not the ones ingested (the ledger has another hash); put the "
                                "ingested version back to take it back")
        aggregate = Aggregator()
        for frame in read_log_file(copy, path, Rejects(), None, limits):
            aggregate.add(frame)
    finally:
        copies.close()
    return aggregate.delta(), aggregate.searches


REFERENCES = (Table.MATCHED, Table.CO_MATCHED, Table.PREFERRED_OVER, Table.INTENT_PREFERENCES, Table.DAILY,
              Table.TOTALS, Table.DERIVED_FROM, Table.INTEGRATES_WITH, Table.HAS_CAPABILITY)
"""Every table in which a row names an artifact: a stub that none names any more goes."""


def _orphaned_stubs(reader: Reader, delta: GraphDelta) -> list[str]:
    """The stub artifacts the file named that nothing will name once its contribution is gone."""
    named = delta.get(Table.ARTIFACTS).get_column("id").to_list()
    if not named:
        return []
    current = reader.table(Table.ARTIFACTS, named, columns=["id", "catalogued"])
    stubs = set(current.filter(~pl.col("catalogued").fill_null(False)).get_column("id").to_list())
    if not stubs:
        return []
    still = set()
    stored = reader.tables(REFERENCES, sorted(stubs))
    for table, frame in stored.items():
        if table in ADDITIVE:
            frame = merge_additive(table, frame, negated(table, delta.get(table)).filter(
                pl.any_horizontal(pl.col(c).is_in(sorted(stubs)) for c in ARTIFACT_ENDPOINTS[table])))
        for column in ARTIFACT_ENDPOINTS[table]:
            still.update(frame.get_column(column).to_list())
    return sorted(stubs - still)


def _refuse_catalog(source: str) -> InvalidInput:
    return InvalidInput(f"{source} is a catalog file: its records overwrite fields, there is nothing to subtract",
                        hint="ingest the corrected records instead: a catalog record replaces the fields it gives")


