"""What the write commands and admin routes answer: an ingest's counts, a scoring run's summary."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from ingest.forget import ForgetReport
    from ingest.pipeline import IngestReport
    from queries.scoring import ScoreReport


class FileResult(BaseModel):
    source: str
    sha256: str
    status: str
    read: int
    ingested: int
    rejected: int


class IngestResult(BaseModel):
    kind: str
    read: int
    ingested: int
    rejected: int
    rejects: str | None
    files: list[FileResult]
    failed: int
    """Files that could not be used at all (their reasons are in the rejects file, line 0)."""

    @classmethod
    def of(cls, report: IngestReport) -> IngestResult:
        return cls(kind=report.kind, read=report.read, ingested=report.ingested, rejected=report.rejected,
                   rejects=str(report.rejects_path) if report.rejects_path else None,
                   files=[FileResult(**f.__dict__) for f in report.files], failed=len(report.failed))


class ScoreResult(BaseModel):
    run: str
    artifacts: int
    as_of: date
    low_confidence: int
    steps: dict[str, float]
    """Seconds each step of the run took (aggregates, ratings, each sub-score, the write)."""

    @classmethod
    def of(cls, report: ScoreReport) -> ScoreResult:
        return cls(run=report.run, artifacts=report.artifacts, as_of=report.as_of,
                   low_confidence=report.low_confidence, steps=report.steps)


class ForgetResult(BaseModel):
    sha256: str
    source: str
    searches: int
    """Searches taken back."""
    stubs_removed: int
    """Artifacts known only from this file, removed with it."""
    rescored: ScoreResult | None

    @classmethod
    def of(cls, report: ForgetReport, scored: ScoreReport | None) -> ForgetResult:
        return cls(sha256=report.sha256, source=report.source, searches=report.searches,
                   stubs_removed=report.stubs_removed, rescored=ScoreResult.of(scored) if scored else None)
