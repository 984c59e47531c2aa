"""``/browser/guide.html`` and ``/browser/matchgraph.grass``: what ``:guide <url>`` and ``:style <url>``
load into the Neo4j Browser.

The Browser fetches them from its own page (http://127.0.0.1:7474 by default), so they are served
cross-origin to the origins in ``MATCHGRAPH_BROWSER_ORIGINS``. That CORS covers these two paths
only and sits outside the API's own (``MATCHGRAPH_CORS_ORIGINS``), which answers every preflight
itself and would turn the Browser away when it is not listed there. The guide fetch carries
``Pragma`` and ``Cache-Control`` headers, so the Browser sends a preflight first.
"""

from functools import lru_cache

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.guide import GUIDE_PATH, STYLE_PATH, guide, style
from graph.settings import Settings

PREFIX = "/browser/"
REQUEST_HEADERS = ("pragma", "cache-control")
"""What the Browser's guide fetch sends besides the CORS-safelisted headers."""


class BrowserCORS:
    """CORS for the paths under ``prefix`` alone; every other request passes through untouched."""

    def __init__(self, app: ASGIApp, prefix: str, origins: list[str]) -> None:
        self.app = app
        self.prefix = prefix
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_methods=["GET"], allow_headers=REQUEST_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(self.prefix):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


@lru_cache(maxsize=8)
def _guide_page(server: str) -> bytes:
    """The slides, naming the address they were fetched from (a few addresses per process at most
    matter; the bound keeps made-up Host headers from growing it)."""
    return guide().html(server).encode()


def router(settings: Settings) -> APIRouter:
    del settings  # nothing here is bounded by a setting
    api = APIRouter(tags=["browser"], include_in_schema=False)
    headers = {"Cache-Control": "no-cache"}

    @api.get(GUIDE_PATH, name="browser_guide")
    async def browser_guide(request: Request) -> Response:
        """The guide as the HTML slides the Browser's ``:guide <url>`` cuts at ``<slide>``."""
        server = str(request.base_url).rstrip("/")
        return Response(_guide_page(server), media_type="text/html; charset=utf-8", headers=headers)

    @api.get(STYLE_PATH, name="browser_style")
    async def browser_style() -> Response:
        """The ``.grass`` style the Browser's ``:style <url>`` applies."""
        return Response(style().encode(), media_type="text/plain; charset=utf-8", headers=headers)

    return api


def install(app: FastAPI, settings: Settings) -> None:
    """The routes and their CORS; call after the API's own CORS so this one sees requests first."""
    app.include_router(router(settings))
    app.add_middleware(BrowserCORS, prefix=PREFIX, origins=settings.browser_origins)
