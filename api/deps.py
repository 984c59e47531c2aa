"""What routes use: the application object, the answer cache, the admin check, conditional requests.

Read routes go through :class:`Answers`: an answer is served from the cache when the graph has not
changed since it was computed, else computed in a worker thread over ONE pinned version of the
graph and kept under that version. The ETag names the version the body was computed from, so a
client never holds a tag for data it did not get.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from api.cache import AnswerCache, etag
from graph.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import BaseModel

    from api.application import MatchGraph
    from graph.settings import Settings
    from queries.engine import QueryEngine


def application(request: Request) -> MatchGraph:
    mg: MatchGraph = request.app.state.mg
    return mg


def etag_matches(header: str | None, tag: str) -> bool:
    """``If-None-Match`` as RFC 9110 section 13.1.2 reads it: ``*`` matches any current
    representation, otherwise a list of entity tags compared weakly (``W/"x"`` matches ``"x"``)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = tag.removeprefix("W/")
    return any(part.strip().removeprefix("W/") == wanted for part in header.split(","))


class Answers:
    """Serves one read: from the cache when the graph has not changed, else computed and kept.

    It is the one thing a read route takes (each FastAPI dependency costs about as long as serving
    a cached answer, so the hot path resolves none).
    """

    def __init__(self, request: Request) -> None:
        self.request = request
        self.mg = application(request)
        self.cache: AnswerCache = request.app.state.cache
        self.settings: Settings = self.mg.settings

    async def version(self) -> str:
        """The graph version to look the answer up under. One check of the store at a time: while
        it runs, other requests look up under the version known so far."""
        fresh = self.cache.fresh_version()
        if fresh is not None:
            return fresh
        cache = self.cache
        if cache.checking is None:
            cache.checking = asyncio.ensure_future(run_in_threadpool(cache.check, self.mg.store))
            cache.checking.add_done_callback(cache.checked)
        known = cache.known_version()
        if known is not None and cache.check_s > 0:
            return known
        return await asyncio.shield(cache.checking)

    async def body(self, key: str, compute: Callable[[QueryEngine], bytes]) -> tuple[str, bytes]:
        """The answer's bytes and the version they were computed from."""
        version = await self.version()
        body = self.cache.get(version, key)
        if body is not None:
            return version, body
        # One computation per key and version: requests that miss together wait for the first.
        flight = (version, key)
        pending = self.cache.inflight.get(flight)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[tuple[str, bytes]] = asyncio.get_running_loop().create_future()
        self.cache.inflight[flight] = future
        try:
            answered = await run_in_threadpool(self.mg.read_versioned, compute)
        except BaseException as e:
            future.set_exception(e)
            future.exception()  # marks it retrieved when no one else waited
            raise
        finally:
            del self.cache.inflight[flight]
        future.set_result(answered)
        self.cache.put(answered[0], key, answered[1])
        return answered

    async def model(self, key: str, answer: Callable[[QueryEngine], BaseModel]) -> Response:
        """``answer`` asked of an engine over one version, as JSON (pydantic serializes it in Rust)."""
        return await self.respond(key, lambda engine: answer(engine).model_dump_json().encode())

    async def respond(self, key: str, compute: Callable[[QueryEngine], bytes],
                      media_type: str = "application/json") -> Response:
        version, body = await self.body(key, compute)
        tag = etag(version, key)
        headers = {"ETag": tag, "Cache-Control": "no-cache", "X-Graph-Version": version}
        if etag_matches(self.request.headers.get("if-none-match"), tag):
            raise HTTPException(304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)


bearer = HTTPBearer(auto_error=False, scheme_name="adminToken",
                    description="The admin token the server was started with (`MATCHGRAPH_ADMIN_TOKEN`).")


async def require_admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Admin endpoints take ``Authorization: Bearer <MATCHGRAPH_ADMIN_TOKEN>``; with no token
    configured they are switched off."""
    token = application(request).settings.admin_token
    if token is None or not token.get_secret_value():
        raise Forbidden("admin endpoints are off", hint="set MATCHGRAPH_ADMIN_TOKEN on the server to turn them on")
    given = credentials.credentials if credentials is not None and credentials.scheme.lower() == "bearer" else ""
    if not secrets.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        raise Unauthorized("a valid admin bearer token is required")
