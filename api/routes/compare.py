"""``/v1/compare`` and ``/v1/path``: two artifacts side by side, and how they are connected."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import Answers
from api.problems import problem_responses
from api.routes.artifacts import ArtifactId
from queries.models import Comparison, PathAnswer

router = APIRouter(prefix="/v1", tags=["compare"])


@router.get("/compare/{a}/{b}", operation_id="compareArtifacts", response_model=Comparison,
            responses=problem_responses(404, 409, 422, 503))
async def compare(
    a: ArtifactId, b: ArtifactId, request: Request,
    alternatives: Annotated[int, Query(ge=1, le=20, description="Alternatives to list.")] = 5,
) -> Response:
    """The comparison page's data: both profiles, who leads on what, the verdict, alternatives.
    409 when either artifact has not been scored yet."""
    answers = await Answers.of(request)
    return await answers.model(f"compare:{a}:{b}:{alternatives}",
                               lambda engine: engine.compare(a, b, alternatives=alternatives))


@router.get("/path/{a}/{b}", operation_id="findPath", response_model=PathAnswer,
            responses=problem_responses(404, 422, 503))
async def path(
    a: ArtifactId, b: ArtifactId, request: Request,
    max_depth: Annotated[int, Query(ge=1, le=10, description="Most hops to look, at most "
                                    "`MATCHGRAPH_MAX_DEPTH` (3).")] = 3,
) -> Response:
    """The fewest-hop chain between two artifacts over co-match, lineage and integration edges;
    `connected` is false when none is at most `max_depth` hops long."""
    answers = await Answers.of(request)
    ceiling = answers.settings.max_depth
    return await answers.model(f"path:{a}:{b}:{max_depth}",
                               lambda engine: engine.path(a, b, max_depth, depth_ceiling=ceiling))
