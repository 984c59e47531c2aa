"""``/v1/admin``: ingest an uploaded file, rescore. Both need the admin bearer token.

An upload streams to ``<home>/uploads`` (never held in memory, cut off at
``MATCHGRAPH_MAX_UPLOAD_BYTES``), is kept there under its hash, and goes through the same ingest
path as the CLI: ledger (the same bytes twice change nothing), rejects file, one atomic write per
file. Both actions hold the store's run lock, so they never overlap a nightly run: 409 if one is going.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import SettingsDep, StoreDep, require_admin
from api.nightly import LOCK_NAME
from api.problems import problem_responses
from graph.errors import InvalidInput, TooLarge
from ingest.pipeline import ingest_catalogs, ingest_logs
from queries.models import FileResult, IngestResult, ScoreResult
from queries.scoring import ScoringConfig, load_weights, score

if TYPE_CHECKING:
    from pathlib import Path

    from graph.settings import Settings
    from graph.store import GraphStore
    from ingest.pipeline import IngestReport

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])

ADMIN_PROBLEMS = problem_responses(401, 403, 409, 413, 422, 503)
FILENAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


async def _receive(request: Request, folder: Path, filename: str, max_bytes: int) -> Path:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"the upload is {declared} bytes; the limit is {max_bytes}")
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".part-{secrets.token_hex(6)}"
    digest, size = hashlib.sha256(), 0
    try:
        with open(part, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"the upload passed the limit of {max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise InvalidInput("the request body is empty: send the file's bytes as the body")
        final = folder / f"{digest.hexdigest()[:16]}-{filename}"
        os.replace(part, final)
        return final
    finally:
        part.unlink(missing_ok=True)


def _ingest(store: GraphStore, settings: Settings, kind: str, path: Path, fmt: str | None) -> IngestReport:
    with store.run_lock(LOCK_NAME, settings.run_lock_ttl_s):
        run = ingest_catalogs if kind == "catalog" else ingest_logs
        return run(store, [path], settings, fmt)


@router.post("/ingest", operation_id="adminIngest", response_model=IngestResult, responses=ADMIN_PROBLEMS)
async def ingest(
    request: Request, store: StoreDep, settings: SettingsDep,
    kind: Annotated[Literal["catalog", "logs"], Query(description="What the file holds.")],
    filename: Annotated[str, Query(pattern=FILENAME, description="The file's name; its extension tells the "
                                   "format (`.jsonl`, `.jsonl.gz`, `.csv`, `.parquet`, ...).")],
    fmt: Annotated[str | None, Query(alias="format", max_length=40,
                                     description="Force a format (as `matchgraph ingest --format`).")] = None,
) -> IngestResult:
    """Ingest one catalog or search-log file sent as the request body. Re-sending the same bytes
    changes nothing; rows that cannot be used go to the rejects file named in the answer."""
    path = await _receive(request, settings.home / "uploads", filename, settings.max_upload_bytes)
    report = await run_in_threadpool(_ingest, store, settings, kind, path, fmt)
    return IngestResult(
        kind=report.kind, read=report.read, ingested=report.ingested, rejected=report.rejected,
        rejects=str(report.rejects_path) if report.rejects_path else None,
        files=[FileResult(**f.__dict__) for f in report.files],
    )


@router.post("/score", operation_id="adminScore", response_model=ScoreResult, responses=ADMIN_PROBLEMS)
async def rescore(
    store: StoreDep, settings: SettingsDep,
    as_of: Annotated[date | None, Query(description="Score as of this day (default: today).")] = None,
) -> ScoreResult:
    """Recompute every artifact's sub-scores and rank now (the nightly job does this by itself)."""
    config = ScoringConfig(half_life_days=settings.half_life_days, as_of=as_of,
                           weights=load_weights(settings.weights_file))

    def work() -> ScoreResult:
        with store.run_lock(LOCK_NAME, settings.run_lock_ttl_s):
            report = score(store, config)
        return ScoreResult(run=report.run, artifacts=report.artifacts, as_of=report.as_of,
                           low_confidence=report.low_confidence)

    return await run_in_threadpool(work)
