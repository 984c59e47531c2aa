"""``/v1/compare`` and ``/v1/path``: two artifacts side by side, and how they are connected."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import Answers
from api.problems import problem_responses
from api.routes.artifacts import ArtifactId
from graph.settings import Settings
from queries.models import Comparison, PathAnswer


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["compare"])
    alternatives_q = Query(ge=1, le=20, description="Alternatives to list.")
    depth_q = Query(ge=1, le=settings.max_depth, description=f"Most hops to look, 1 to {settings.max_depth} "
                    "(`MATCHGRAPH_MAX_DEPTH`).")

    @api.get("/compare/{a}/{b}", operation_id="compareArtifacts", response_model=Comparison,
             responses=problem_responses(404, 409, 422, 503))
    async def compare(a: ArtifactId, b: ArtifactId, request: Request,
                      alternatives: Annotated[int, alternatives_q] = 5) -> Response:
        """The comparison page's data: both profiles, who leads on what, the verdict, alternatives.
        409 when either artifact has not been scored yet."""
        return await Answers(request).model(f"compare:{a}:{b}:{alternatives}",
                                            lambda q: q.compare(a, b, alternatives=alternatives))

    @api.get("/path/{a}/{b}", operation_id="findPath", response_model=PathAnswer,
             responses=problem_responses(404, 422, 503))
    async def path(a: ArtifactId, b: ArtifactId, request: Request,
                   max_depth: Annotated[int, depth_q] = settings.max_depth) -> Response:
        """The fewest-hop chain between two artifacts over co-match, lineage and integration edges;
        `connected` is false when none is at most `max_depth` hops long."""
        return await Answers(request).model(f"path:{a}:{b}:{max_depth}", lambda q: q.path(a, b, max_depth))

    return api
