"""``/v1/runs``: the nightly runs the store has recorded."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Answers
from api.problems import problem_responses
from api.routes.artifacts import limit_query, offset_query
from graph.settings import Settings
from queries.models import Page, RunView


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/runs", tags=["runs"])
    limit_q, offset_q = limit_query(settings), offset_query(settings)

    @api.get("", operation_id="listRuns", response_model=Page[RunView], responses=problem_responses(422, 503))
    async def runs(request: Request, limit: Annotated[int, limit_q] = 20,
                   offset: Annotated[int, offset_q] = 0) -> Response:
        """Nightly runs, newest first: files taken in, rows read, ingested and rejected, whether it rescored."""
        return await Answers(request).model(f"runs:{limit}:{offset}", lambda q: q.runs(limit, offset))

    return api
