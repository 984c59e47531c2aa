"""``/v1/search`` and ``/v1/top``: finding artifacts by text, and the ranked lists."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import Answers
from api.problems import READ_PROBLEMS, problem_responses
from api.routes.artifacts import limit_query, offset_query
from graph.schema import ArtifactType
from graph.settings import Settings
from queries.models import ListedArtifact, Page, SearchPage


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["search"])
    limit_q, offset_q = limit_query(settings), offset_query(settings)
    text_q = Query(min_length=1, max_length=settings.max_query_chars,
                   description=f"Search text, at most {settings.max_query_chars} characters "
                               "(`MATCHGRAPH_MAX_QUERY_CHARS`).")

    @api.get("/search", operation_id="searchArtifacts", response_model=SearchPage, responses=READ_PROBLEMS)
    async def search(q: Annotated[str, text_q], request: Request, limit: Annotated[int, limit_q] = 10,
                     offset: Annotated[int, offset_q] = 0) -> Response:
        """Artifacts for a need: lexical relevance (BM25), meaning (text vectors), the capabilities the
        text asks for and what people chose for similar past searches, blended; the most relevant
        first, then by rank. Each hit says why it matched; `capabilities` lists the capabilities the
        text asks for."""
        return await Answers(request).model(f"search:{limit}:{offset}:{q}",
                                            lambda engine: engine.search(q, limit=limit, offset=offset))

    @api.get("/top", operation_id="listTop", response_model=Page[ListedArtifact],
             responses=problem_responses(422, 503))
    async def top(request: Request,
                  type: Annotated[ArtifactType | None, Query(description="Only this artifact type.")] = None,  # noqa: A002
                  limit: Annotated[int, limit_q] = 10, offset: Annotated[int, offset_q] = 0) -> Response:
        """The best-ranked catalogued artifacts, overall or of one type."""
        kind = type.value if type is not None else None
        return await Answers(request).model(f"top:{kind}:{limit}:{offset}",
                                            lambda engine: engine.top(kind, limit=limit, offset=offset))

    return api
