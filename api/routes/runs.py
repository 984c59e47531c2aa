"""``/v1/runs``: the nightly runs the store has recorded."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import AnswersDep, EngineDep, SettingsDep
from api.problems import problem_responses
from api.routes.artifacts import Limit, Offset
from graph.errors import InvalidInput
from queries.models import Page, RunView

router = APIRouter(prefix="/v1/runs", tags=["runs"])


@router.get("", operation_id="listRuns", response_model=Page[RunView], responses=problem_responses(422, 503))
async def runs(engine: EngineDep, answers: AnswersDep, settings: SettingsDep,
               limit: Limit = 20, offset: Offset = 0) -> Response:
    """Nightly runs, newest first: files taken in, rows read, ingested and rejected, whether it rescored."""
    if limit + 1 > settings.max_limit:
        raise InvalidInput(f"limit must be below {settings.max_limit}, got {limit}")
    if offset > settings.max_offset:
        raise InvalidInput(f"offset must be at most {settings.max_offset}, got {offset}")
    return await answers.respond(
        f"runs:{limit}:{offset}",
        lambda: Page[RunView].of(engine.runs(limit + 1, offset), offset, limit).model_dump_json().encode(),
    )
