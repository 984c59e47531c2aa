"""``/health`` (the process answers), ``/ready`` (the store answers) and ``/metrics`` (Prometheus)."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from api.cache import AnswerCache
from api.deps import application
from api.problems import problem_responses
from graph.settings import Settings


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    store: str
    version: str


def router(settings: Settings) -> APIRouter:
    del settings  # nothing here is bounded by a setting
    api = APIRouter(tags=["operations"])

    @api.get("/health", operation_id="health", response_model=Health)
    async def health() -> Health:
        """The process is up (it does not touch the store: use `/ready` for that)."""
        return Health(status="ok")

    @api.get("/ready", operation_id="ready", response_model=Readiness, responses=problem_responses(503))
    async def ready(request: Request) -> Readiness:
        """The store answers: 503 with `Retry-After` while it does not (Neo4j down, folder unreadable)."""
        mg = application(request)
        cache: AnswerCache = request.app.state.cache
        version = await run_in_threadpool(lambda: cache.check(mg.store))
        return Readiness(status="ready", store=mg.store.kind, version=version)

    @api.get("/metrics", operation_id="metrics", response_class=Response,
             responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
                              "description": "Prometheus text format."}})
    async def metrics(request: Request) -> Response:
        """Request counts and latencies by route, answer-cache hits and misses, store outages."""
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return api
