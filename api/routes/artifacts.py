"""``/v1/artifacts``: one artifact, its alternatives, its co-match neighborhood, how its rank is made."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import TypeAdapter

from api.deps import Answers
from api.problems import READ_PROBLEMS, problem_responses
from graph.store import Subgraph
from queries.models import Alternative, ArtifactDetail, Explanation, HistoryPoint, Page

HISTORY = TypeAdapter(list[HistoryPoint])
router = APIRouter(prefix="/v1/artifacts", tags=["artifacts"])

ArtifactId = Annotated[str, Path(min_length=1, max_length=200, description="An artifact id, e.g. `flux-1-pro`.")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="Page size, at most `MATCHGRAPH_MAX_LIMIT` (200).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


@router.get("/{artifact_id}", operation_id="getArtifact", response_model=ArtifactDetail,
            responses=READ_PROBLEMS)
async def get_artifact(artifact_id: ArtifactId, request: Request) -> Response:
    """One artifact: rank, sub-scores, capabilities, lineage and integrations (the CLI's `show --json`)."""
    answers = await Answers.of(request)
    return await answers.model(f"artifact:{artifact_id}", lambda engine: engine.show(artifact_id))


@router.get("/{artifact_id}/explain", operation_id="explainArtifact", response_model=Explanation,
            responses=problem_responses(404, 409, 422, 503))
async def explain_artifact(artifact_id: ArtifactId, request: Request) -> Response:
    """Each sub-score's value, weight and contribution to the rank, with its evidence."""
    answers = await Answers.of(request)
    return await answers.model(f"explain:{artifact_id}", lambda engine: engine.explain(artifact_id))


@router.get("/{artifact_id}/history", operation_id="getRankHistory", response_model=list[HistoryPoint],
            responses=READ_PROBLEMS)
async def rank_history(artifact_id: ArtifactId, request: Request) -> Response:
    """The artifact's rank at every scoring run, oldest first."""
    answers = await Answers.of(request)
    return await answers.respond(f"history:{artifact_id}",
                                 lambda: HISTORY.dump_json(answers.engine.history(artifact_id)))


@router.get("/{artifact_id}/alternatives", operation_id="listAlternatives", response_model=Page[Alternative],
            responses=READ_PROBLEMS)
async def alternatives(artifact_id: ArtifactId, request: Request,
                       limit: Limit = 5, offset: Offset = 0) -> Response:
    """Artifacts people met in the same searches, strongest first; capability peers fill a short list."""
    answers = await Answers.of(request)
    answers.check_page(limit, offset, windowed=True)
    return await answers.model(
        f"alternatives:{artifact_id}:{limit}:{offset}",
        lambda engine: Page[Alternative].of(engine.alternatives(artifact_id, limit=offset + limit + 1)[offset:],
                                            offset, limit),
    )


@router.get("/{artifact_id}/neighborhood", operation_id="getNeighborhood", response_model=Subgraph,
            responses=READ_PROBLEMS)
async def neighborhood(
    artifact_id: ArtifactId, request: Request,
    depth: Annotated[int, Query(ge=1, le=10, description="Hops, at most `MATCHGRAPH_MAX_DEPTH` (3).")] = 1,
    limit: Annotated[int, Query(ge=2, le=10_000, description="Nodes, at most "
                                "`MATCHGRAPH_MAX_NEIGHBORHOOD_NODES` (100).")] = 30,
) -> Response:
    """The artifacts within `depth` hops over co-match, lineage and integration edges, strongest first."""
    answers = await Answers.of(request)
    settings = answers.settings
    return await answers.model(
        f"neighborhood:{artifact_id}:{depth}:{limit}",
        lambda engine: engine.neighborhood(artifact_id, depth, limit, max_depth=settings.max_depth,
                                           max_nodes=settings.max_neighborhood_nodes),
    )
