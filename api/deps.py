"""What routes depend on: the settings, the store, the query engine, the answer cache, the admin check.

Routes take these with ``Annotated[..., Depends(...)]`` so tests swap any of them through
``app.dependency_overrides``. The dependencies are ``async`` and cheap: blocking work (opening
the store, computing an answer) goes to a worker thread, and a cached answer never leaves the
event loop.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from api.cache import AnswerCache, etag
from graph.errors import Forbidden, InvalidInput, Unauthorized
from graph.settings import Settings
from graph.store import GraphStore, open_store
from queries.engine import QueryEngine

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import BaseModel


class StoreHolder:
    """Opens the store on first use and again after a failed open: the API starts, and answers
    503 until then, even when Neo4j is not up yet."""

    def __init__(self, settings: Settings, store: GraphStore | None = None) -> None:
        self.settings = settings
        self.store = store
        self.owned = store is None
        """Only a store this holder opened is closed by it; one handed in belongs to the caller."""
        self._lock = threading.Lock()

    def open(self) -> GraphStore:
        with self._lock:
            if self.store is None:
                self.store = open_store(self.settings)
            return self.store

    def close(self) -> None:
        if self.store is not None and self.owned:
            self.store.close()
            self.store = None


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> GraphStore:
    holder: StoreHolder = request.app.state.stores
    if holder.store is not None:
        return holder.store
    return await run_in_threadpool(holder.open)


async def get_cache(request: Request) -> AnswerCache:
    cache: AnswerCache = request.app.state.cache
    return cache


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[GraphStore, Depends(get_store)]


class Answers:
    """Serves one read: from the cache when the graph has not changed since it was computed, else
    computed in a worker thread and kept. Sets ``ETag`` and answers ``If-None-Match`` with 304.

    It is the one dependency a read route takes (each dependency costs a little on every request,
    and a cached answer should cost next to nothing); the engine is built only when an answer
    has to be computed.
    """

    def __init__(self, request: Request, store: GraphStore, cache: AnswerCache) -> None:
        self.request = request
        self.store = store
        self.cache = cache
        self.settings: Settings = request.app.state.settings

    @property
    def engine(self) -> QueryEngine:
        return QueryEngine(self.store, max_limit=self.settings.max_limit)

    async def version(self) -> str:
        """The graph version to answer under. One check of the store at a time: while it runs,
        other requests keep answering under the version known so far (older by at most the
        check's own duration) instead of all asking the store at once."""
        fresh = self.cache.fresh_version()
        if fresh is not None:
            return fresh
        cache = self.cache
        if cache.checking is None:
            cache.checking = asyncio.ensure_future(run_in_threadpool(cache.check, self.store))
            cache.checking.add_done_callback(cache.checked)
        known = cache.known_version()
        if known is not None and cache.check_s > 0:
            return known
        return await asyncio.shield(cache.checking)

    async def body(self, key: str, compute: Callable[[], bytes]) -> tuple[str, bytes]:
        version = await self.version()
        body = self.cache.get(version, key)
        if body is not None:
            return version, body
        # One computation per key and version: requests that miss together wait for the first.
        flight = (version, key)
        pending = self.cache.inflight.get(flight)
        if pending is not None:
            return version, await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.cache.inflight[flight] = future
        try:
            body = await run_in_threadpool(compute)
        except BaseException as e:
            future.set_exception(e)
            future.exception()  # marks it retrieved when no one else waited
            raise
        finally:
            del self.cache.inflight[flight]
        future.set_result(body)
        self.cache.put(version, key, body)
        return version, body

    def check_page(self, limit: int, offset: int, *, windowed: bool = False) -> None:
        """The settings' bounds on a page, of which one item more is fetched (it tells whether
        another page follows). A ``windowed`` list (alternatives, search hits) is a ranked window
        of at most ``max_limit`` items; the others (top, runs) bound the page and the offset."""
        most = self.settings.max_limit
        if windowed:
            if offset + limit + 1 > most:
                raise InvalidInput(f"offset + limit must be below {most}, got {offset + limit}")
            return
        if limit + 1 > most:
            raise InvalidInput(f"limit must be below {most}, got {limit}")
        if offset > self.settings.max_offset:
            raise InvalidInput(f"offset must be at most {self.settings.max_offset}, got {offset}")

    async def model(self, key: str, answer: Callable[[QueryEngine], BaseModel]) -> Response:
        """``answer`` asked of a fresh engine, as JSON (pydantic serializes it in Rust)."""
        return await self.respond(key, lambda: answer(self.engine).model_dump_json().encode())

    async def respond(self, key: str, compute: Callable[[], bytes], media_type: str = "application/json") -> Response:
        version, body = await self.body(key, compute)
        tag = etag(version, key)
        headers = {"ETag": tag, "Cache-Control": "no-cache"}
        if self.request.headers.get("if-none-match") == tag:
            raise HTTPException(304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)


    @classmethod
    async def of(cls, request: Request) -> Answers:
        """The read routes' way in. They take the ``Request`` rather than dependencies: FastAPI
        spends about as long resolving one dependency as serving a cached answer (measured in
        bench/bench_api.py), so the hot path resolves none. Tests swap the store with
        ``create_app(store=...)``; the admin and readiness routes still take ``StoreDep``."""
        return cls(request, await get_store(request), request.app.state.cache)


async def require_admin(request: Request, settings: SettingsDep) -> None:
    """Admin endpoints take ``Authorization: Bearer <MATCHGRAPH_ADMIN_TOKEN>``; with no token
    configured they are switched off."""
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        raise Forbidden("admin endpoints are off", hint="set MATCHGRAPH_ADMIN_TOKEN on the server to turn them on")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        given.strip().encode(), settings.admin_token.get_secret_value().encode()
    ):
        raise Unauthorized("a valid admin bearer token is required")
