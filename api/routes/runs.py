"""``/v1/runs``: the nightly runs the store has recorded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Answers
from api.problems import problem_responses
from api.routes.artifacts import Limit, Offset
from queries.models import Page, RunView

router = APIRouter(prefix="/v1/runs", tags=["runs"])


@router.get("", operation_id="listRuns", response_model=Page[RunView], responses=problem_responses(422, 503))
async def runs(request: Request, limit: Limit = 20, offset: Offset = 0) -> Response:
    """Nightly runs, newest first: files taken in, rows read, ingested and rejected, whether it rescored."""
    answers = await Answers.of(request)
    answers.check_page(limit, offset)
    return await answers.model(f"runs:{limit}:{offset}",
                               lambda engine: Page[RunView].of(engine.runs(limit + 1, offset), offset, limit))
