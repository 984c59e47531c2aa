"""``/v1/admin``: ingest an uploaded file, rescore. Both need the admin bearer token.

An upload streams to ``<home>/uploads`` (never held in memory, cut off at
``MATCHGRAPH_MAX_UPLOAD_BYTES``), is kept there under its hash, and goes through the same ingest
path as the CLI: ledger (the same bytes twice change nothing), rejects file, atomic writes. Both
actions take the writer lock, so they never overlap a nightly run or another writer: 409 if one
is going.
"""

import hashlib
import os
import secrets
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import application, require_admin
from api.problems import problem_responses
from api.results import ForgetResult, IngestResult, ScoreResult
from graph.errors import InvalidInput, TooLarge
from graph.settings import Settings

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


def router(settings: Settings) -> APIRouter:
    del settings  # the upload limit is read per request: it bounds a body, not a parameter
    api = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])

    @api.post("/ingest", operation_id="adminIngest", response_model=IngestResult, responses=ADMIN_PROBLEMS)
    async def ingest(
        request: Request,
        kind: Annotated[Literal["catalog", "logs"], Query(description="What the file holds.")],
        filename: Annotated[str, Query(pattern=FILENAME, description="The file's name; its extension tells the "
                                       "format (`.jsonl`, `.jsonl.gz`, `.csv`, `.parquet`, ...).")],
        fmt: Annotated[str | None, Query(alias="format", max_length=40,
                                         description="Force a format (as `matchgraph ingest --format`).")] = None,
    ) -> IngestResult:
        """Ingest one catalog or search-log file sent as the request body. Re-sending the same bytes
        changes nothing; rows that cannot be used go to the rejects file named in the answer."""
        mg = application(request)
        path = await _receive(request, mg.settings.home / "uploads", filename, mg.settings.max_upload_bytes)
        run = mg.ingest_catalogs if kind == "catalog" else mg.ingest_logs
        report = await run_in_threadpool(run, [path], fmt)
        return IngestResult.of(report)

    @api.post("/score", operation_id="adminScore", response_model=ScoreResult, responses=ADMIN_PROBLEMS)
    async def rescore(
        request: Request,
        as_of: Annotated[date | None, Query(description="Score as of this day (default: the last day "
                                                        "seen in the logs).")] = None,
    ) -> ScoreResult:
        """Recompute every artifact's sub-scores and rank now (the nightly job does this by itself)."""
        report = await run_in_threadpool(application(request).score, as_of)
        return ScoreResult.of(report)

    @api.post("/forget", operation_id="adminForget", response_model=ForgetResult, responses=ADMIN_PROBLEMS)
    async def forget(
        request: Request,
        file: Annotated[str, Query(min_length=8, max_length=4_096,
                                   description="The ingested log file: its SHA-256 (8+ hex digits of it) or the "
                                               "path the ledger records.")],
    ) -> ForgetResult:
        """Take back one ingested log file: subtract exactly what it added, then rescore."""
        report, scored = await run_in_threadpool(application(request).forget, file)
        return ForgetResult.of(report, scored)

    return api
