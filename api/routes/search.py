"""``/v1/search`` and ``/v1/top``: finding artifacts by text, and the ranked lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import Answers
from api.problems import READ_PROBLEMS, problem_responses
from api.routes.artifacts import Limit, Offset
from graph.schema import ArtifactType
from queries.models import ArtifactSummary, Page, SearchHit

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search", operation_id="searchArtifacts", response_model=Page[SearchHit], responses=READ_PROBLEMS)
async def search(
    q: Annotated[str, Query(min_length=1, max_length=4_096,
                            description="Search text, at most `MATCHGRAPH_MAX_QUERY_CHARS` (256) characters.")],
    request: Request, limit: Limit = 10, offset: Offset = 0,
) -> Response:
    """Artifacts whose name, description, capabilities or matching intents fit the text;
    the most relevant first, then by rank."""
    answers = await Answers.of(request)
    answers.check_page(limit, offset, windowed=True)
    max_chars = answers.settings.max_query_chars
    return await answers.model(
        f"search:{limit}:{offset}:{q}",
        lambda engine: Page[SearchHit].of(engine.search(q, limit=limit + 1, max_chars=max_chars, offset=offset),
                                          offset, limit),
    )


@router.get("/top", operation_id="listTop", response_model=Page[ArtifactSummary],
            responses=problem_responses(422, 503))
async def top(
    request: Request,
    type: Annotated[ArtifactType | None, Query(description="Only this artifact type.")] = None,  # noqa: A002
    limit: Limit = 10, offset: Offset = 0,
) -> Response:
    """The best-ranked catalogued artifacts, overall or of one type."""
    answers = await Answers.of(request)
    answers.check_page(limit, offset)
    kind = type.value if type is not None else None
    return await answers.model(
        f"top:{kind}:{limit}:{offset}",
        lambda engine: Page[ArtifactSummary].of(engine.top(kind, limit=limit + 1, offset=offset), offset, limit),
    )
