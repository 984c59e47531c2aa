"""``/v1/artifacts``: one artifact, its alternatives, its neighbourhood, how its rank is made.

Route modules build their router from the settings, so every bound a route enforces is the bound
OpenAPI states. (No ``from __future__ import annotations`` here: FastAPI reads the annotations of
these nested functions, which name locals of ``router``.)
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.deps import Answers
from api.problems import READ_PROBLEMS, problem_responses
from graph.schema import TYPED_ID_PATTERN
from graph.settings import Settings
from queries.models import Alternative, ArtifactDetail, Explanation, HistoryPoint, Page, Subgraph

ArtifactId = Annotated[str, Path(pattern=TYPED_ID_PATTERN, description="An artifact id, e.g. `flux-1-pro` "
                                 "(upper case is folded).")]


def limit_query(settings: Settings) -> Any:
    return Query(ge=1, le=settings.max_limit, description=f"Page size, 1 to {settings.max_limit} "
                 "(`MATCHGRAPH_MAX_LIMIT`).")


def offset_query(settings: Settings) -> Any:
    return Query(ge=0, le=settings.max_offset, description=f"Items to skip, at most {settings.max_offset} "
                 "(`MATCHGRAPH_MAX_OFFSET`).")


def router(settings: Settings) -> APIRouter:
    """The routes, with the bounds of ``settings`` in their parameters (and so in OpenAPI)."""
    api = APIRouter(prefix="/v1/artifacts", tags=["artifacts"])
    limit_q, offset_q = limit_query(settings), offset_query(settings)
    depth_q = Query(ge=1, le=settings.max_depth,
                    description=f"Hops, 1 to {settings.max_depth} (`MATCHGRAPH_MAX_DEPTH`).")
    nodes_q = Query(ge=2, le=settings.max_neighborhood_nodes, description="Nodes, 2 to "
                    f"{settings.max_neighborhood_nodes} (`MATCHGRAPH_MAX_NEIGHBORHOOD_NODES`).")

    @api.get("/{artifact_id}", operation_id="getArtifact", response_model=ArtifactDetail, responses=READ_PROBLEMS)
    async def get_artifact(artifact_id: ArtifactId, request: Request) -> Response:
        """One artifact: rank, sub-scores, capabilities, lineage and integrations (the CLI's `show --json`)."""
        return await Answers(request).model(f"artifact:{artifact_id}", lambda q: q.show(artifact_id))

    @api.get("/{artifact_id}/explain", operation_id="explainArtifact", response_model=Explanation,
             responses=problem_responses(404, 409, 422, 503))
    async def explain_artifact(artifact_id: ArtifactId, request: Request) -> Response:
        """Each sub-score's value, weight and contribution to the rank, with its evidence."""
        return await Answers(request).model(f"explain:{artifact_id}", lambda q: q.explain(artifact_id))

    @api.get("/{artifact_id}/history", operation_id="getRankHistory", response_model=Page[HistoryPoint],
             responses=READ_PROBLEMS)
    async def rank_history(artifact_id: ArtifactId, request: Request,
                           limit: Annotated[int, limit_q] = settings.max_limit,
                           offset: Annotated[int, offset_q] = 0) -> Response:
        """The artifact's rank at every scoring run, oldest first."""
        return await Answers(request).model(f"history:{artifact_id}:{limit}:{offset}",
                                            lambda q: q.history(artifact_id, limit, offset))

    @api.get("/{artifact_id}/alternatives", operation_id="listAlternatives", response_model=Page[Alternative],
             responses=READ_PROBLEMS)
    async def alternatives(artifact_id: ArtifactId, request: Request, limit: Annotated[int, limit_q] = 5,
                           offset: Annotated[int, offset_q] = 0) -> Response:
        """Artifacts people met in the same searches, strongest first; capability peers fill a short list."""
        return await Answers(request).model(f"alternatives:{artifact_id}:{limit}:{offset}",
                                            lambda q: q.alternatives(artifact_id, limit=limit, offset=offset))

    @api.get("/{artifact_id}/neighborhood", operation_id="getNeighborhood", response_model=Subgraph,
             responses=READ_PROBLEMS)
    async def neighborhood(artifact_id: ArtifactId, request: Request, depth: Annotated[int, depth_q] = 1,
                           limit: Annotated[int, nodes_q] = min(30, settings.max_neighborhood_nodes)) -> Response:
        """The artifacts within `depth` hops over co-match, lineage and integration edges, strongest first,
        and every edge among them."""
        return await Answers(request).model(f"neighborhood:{artifact_id}:{depth}:{limit}",
                                            lambda q: q.neighborhood(artifact_id, depth, limit))

    return api
