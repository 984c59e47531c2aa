"""``/health`` (the process answers), ``/ready`` (the store answers) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from api.cache import AnswerCache
from api.deps import StoreDep, get_cache
from api.problems import problem_responses

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    store: str
    version: str


@router.get("/health", operation_id="health", response_model=Health)
async def health() -> Health:
    """The process is up (it does not touch the store: use `/ready` for that)."""
    return Health(status="ok")


@router.get("/ready", operation_id="ready", response_model=Readiness, responses=problem_responses(503))
async def ready(store: StoreDep, cache: Annotated[AnswerCache, Depends(get_cache)]) -> Readiness:
    """The store answers: 503 with `Retry-After` while it does not (Neo4j down, folder unreadable)."""
    version = await run_in_threadpool(cache.check, store)
    return Readiness(status="ready", store=store.kind, version=version)


@router.get("/metrics", operation_id="metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
                             "description": "Prometheus text format."}})
async def metrics(request: Request) -> Response:
    """Request counts and latencies by route, answer-cache hits and misses, store outages."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
