"""The capability graph over HTTP: ``/v1/capabilities``, ``/v1/capabilities/{id}``, ``/v1/best``,
and the pages ``/capabilities`` and ``/best/{need}``.

(No ``from __future__ import annotations`` here: FastAPI reads the annotations of these nested
functions, which name locals of ``router``.)
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.deps import Answers
from api.problems import READ_PROBLEMS, problem_responses
from api.routes.artifacts import limit_query, offset_query
from api.routes.pages import HTML, _render
from graph.settings import Settings
from queries.engine import QueryEngine
from queries.models import Board, CapabilityDetail, CapabilitySummary, Page

CAPABILITY_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


def router(settings: Settings) -> APIRouter:
    routes = APIRouter()
    api = APIRouter(prefix="/v1", tags=["capabilities"])
    pages = APIRouter(tags=["pages"], include_in_schema=False)
    limit_q, offset_q = limit_query(settings), offset_query(settings)
    capability_id = Path(pattern=CAPABILITY_ID, max_length=settings.max_id_chars,
                         description="A capability id, e.g. `text-to-image-generation`.")
    need_q = Query(min_length=1, max_length=settings.max_query_chars,
                   description="A need in words (a capability's id or name, a past search, or any text), at most "
                               f"{settings.max_query_chars} characters.")

    @api.get("/capabilities", operation_id="listCapabilities", response_model=Page[CapabilitySummary],
             responses=problem_responses(422, 503))
    async def list_capabilities(request: Request, limit: Annotated[int, limit_q] = 50,
                                offset: Annotated[int, offset_q] = 0) -> Response:
        """Every shared capability, the most widely held first, with the first artifacts of its board."""
        return await Answers(request).model(f"capabilities:{limit}:{offset}",
                                            lambda q: q.capabilities(limit=limit, offset=offset))

    @api.get("/capabilities/{capability}", operation_id="getCapability", response_model=CapabilityDetail,
             responses=READ_PROBLEMS)
    async def get_capability(capability: Annotated[str, capability_id], request: Request,
                             limit: Annotated[int, limit_q] = 20) -> Response:
        """One capability: its members with their own names for it, the intents that seek it (with
        each link's confidence and counts), and its board."""
        return await Answers(request).model(f"capability:{capability}:{limit}",
                                            lambda q: q.capability(capability, limit=limit))

    @api.get("/best", operation_id="bestFor", response_model=Board, responses=READ_PROBLEMS)
    async def best(need: Annotated[str, need_q], request: Request, limit: Annotated[int, limit_q] = 10) -> Response:
        """The best artifacts for a need: the board of the capability (or past intent) it names."""
        return await Answers(request).model(f"best:{limit}:{need}", lambda q: q.best(need, limit=limit))

    @pages.get("/capabilities", name="capabilities_page")
    async def capabilities_page(request: Request, offset: Annotated[int, offset_q] = 0) -> Response:
        def compute(q: QueryEngine) -> bytes:
            page = q.capabilities(limit=min(100, settings.max_limit), offset=offset)
            return _render(request, "capabilities.html", title="Capabilities", page=page)

        return await Answers(request).respond(f"page:capabilities:{offset}", compute, HTML)

    @pages.get("/best/{need}", name="best_page")
    async def best_page(request: Request, need: Annotated[str, Path(max_length=settings.max_query_chars)]) -> Response:
        def compute(q: QueryEngine) -> bytes:
            board = q.best(need, limit=min(50, settings.max_limit))
            detail = q.capability(board.need) if board.kind == "capability" else None
            return _render(request, "best.html", title=f"Best for {board.name}", board=board, detail=detail)

        return await Answers(request).respond(f"page:best:{need}", compute, HTML)

    routes.include_router(api)
    routes.include_router(pages)
    return routes
