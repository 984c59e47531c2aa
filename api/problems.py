"""Errors as RFC 9457 problem details, for the API and the pages alike.

One handler per kind of failure maps it to a status and a body: matchgraph's own errors carry
their status (:mod:`graph.errors`), request validation is a 422 naming each bad field, an
unreachable store is a 503 with ``Retry-After``, and anything unexpected is a 500 that names no
internals (the traceback goes to the server log only). Pages get the same answer as HTML.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph.errors import MatchGraphError, NotFound, StoreUnavailable

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.templating import Jinja2Templates

log = logging.getLogger("matchgraph.api")

PROBLEM_JSON = "application/problem+json"
API_PREFIXES = ("/v1/", "/health", "/ready", "/metrics", "/openapi.json", "/docs", "/redoc")


class FieldProblem(BaseModel):
    location: str
    message: str


class Problem(BaseModel):
    """An error answer: ``type`` names the kind, ``detail`` says what went wrong in this request."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    hint: str | None = None
    suggestions: list[str] | None = None
    errors: list[FieldProblem] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems a route can answer with, so clients and schema checks know them."""
    return {
        status: {"model": Problem, "description": HTTPStatus(status).phrase,
                 "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for status in statuses
    }


READ_PROBLEMS = problem_responses(404, 422, 503)


def _kind(status: int) -> str:
    return "urn:matchgraph:problem:" + HTTPStatus(status).phrase.lower().replace(" ", "-")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


def problem_response(request: Request, problem: Problem, headers: dict[str, str] | None = None) -> Response:
    if _wants_html(request):
        templates: Jinja2Templates = request.app.state.templates
        page: Response = templates.TemplateResponse(request, "error.html", {"problem": problem, "title": problem.title},
                                                     status_code=problem.status, headers=headers)
        return page
    return Response(problem.model_dump_json(exclude_none=True), status_code=problem.status,
                    media_type=PROBLEM_JSON, headers=headers)


async def on_matchgraph_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MatchGraphError)
    status = exc.http_status
    headers: dict[str, str] = {}
    if isinstance(exc, StoreUnavailable):
        headers["Retry-After"] = str(request.app.state.settings.retry_after_s)
        request.app.state.metrics.store_errors.inc()
        log.warning("store unavailable: %s", exc)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="matchgraph-admin"'
    problem = Problem(
        type=_kind(status), title=HTTPStatus(status).phrase, status=status, detail=exc.message,
        instance=request.url.path, hint=exc.hint if not isinstance(exc, NotFound) else None,
        suggestions=exc.suggestions if isinstance(exc, NotFound) else None,
    )
    return problem_response(request, problem, headers)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldProblem(location=".".join(str(part) for part in err.get("loc", ())), message=str(err.get("msg", "")))
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e.location}: {e.message}" for e in errors) or "the request is not valid"
    problem = Problem(type=_kind(422), title=HTTPStatus(422).phrase, status=422, detail=detail,
                      instance=request.url.path, errors=errors)
    return problem_response(request, problem)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 304:  # Not Modified is an answer, not a problem: no body
        return Response(status_code=304, headers=exc.headers)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
    if status == 404 and detail == "Not Found":
        detail = f"no such page or endpoint: {request.url.path}"
    problem = Problem(type=_kind(status), title=HTTPStatus(status).phrase, status=status, detail=detail,
                      instance=request.url.path)
    return problem_response(request, problem, dict(exc.headers) if exc.headers else None)


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    problem = Problem(type=_kind(500), title=HTTPStatus(500).phrase, status=500,
                      detail="the server met an unexpected error; it has been logged", instance=request.url.path)
    if _wants_html(request):
        return HTMLResponse(f"<h1>500</h1><p>{problem.detail}</p>", status_code=500)
    return Response(problem.model_dump_json(exclude_none=True), status_code=500, media_type=PROBLEM_JSON)


def install(app: FastAPI) -> None:
    app.add_exception_handler(MatchGraphError, on_matchgraph_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected_error)
