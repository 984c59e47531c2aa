"""The HTTP application: the graph query API under ``/v1``, operations endpoints, and the pages.

``create_app`` builds one app per settings object (and optionally a store already open, as tests
do). The store opens on first use, so the API starts before Neo4j does and answers 503 until it
is reachable. Run it with ``matchgraph serve``.
"""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fastapi_offline import FastAPIOffline
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api import problems
from api.application import MatchGraph
from api.cache import AnswerCache
from api.metrics import Metrics, MetricsMiddleware
from api.routes import admin, artifacts, browser, capabilities, compare, health, pages, runs, search
from api.server import SecurityHeaders
from graph.errors import MatchGraphError
from graph.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from graph.store import GraphStore

HERE = Path(__file__).resolve().parent
VERSION = "0.1.0"
log = logging.getLogger("matchgraph.api")


def _warm_up(mg: MatchGraph) -> None:
    """Open the store and answer one query so the lazily imported code is in memory before the
    collector freezes it. A store that is down is fine: requests get 503 until it is up."""
    try:
        mg.read(lambda q: q.top(None, limit=1))
    except MatchGraphError as e:
        log.warning("store not ready at startup: %s", e)
    except Exception:  # a warm-up never stops the server; the request that meets it reports it
        log.exception("warm-up query failed")


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    settings = settings or Settings()
    mg = MatchGraph(settings, store, row_index=True)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # One budget of threads for the cores: answers are computed in this pool, and each runs
        # polars single-threaded (``matchgraph serve`` sets POLARS_MAX_THREADS), so 50 clients at
        # once queue for a few threads instead of 40 threads each starting polars' own pool.
        from anyio import to_thread

        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # Everything loaded so far (modules, routes, templates) lives as long as the process:
        # keep it out of the collector's full passes, which otherwise stall requests for tens of ms.
        # Fewer young-generation passes too: a request allocates a few thousand short-lived objects.
        await run_in_threadpool(_warm_up, mg)
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        try:
            yield
        finally:
            mg.close()

    # Swagger UI and ReDoc from files in an installed package, not a CDN: /docs works offline.
    app = FastAPIOffline(
        static_url="/docs-static",
        swagger_ui_parameters={"validatorUrl": None},
        title="matchgraph",
        version=VERSION,
        summary="The match graph of AI artifacts: ranks, sub-scores, comparisons and their evidence.",
        lifespan=lifespan,
    )
    cache = AnswerCache(settings.cache_entries, settings.version_check_s, settings.cache_mib << 20)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      auto_reload=False)
    app.state.settings = settings
    app.state.mg = mg
    app.state.cache = cache
    app.state.metrics = Metrics(cache)
    app.state.templates = Jinja2Templates(env=env)

    problems.install(app)
    for module in (artifacts, compare, search, capabilities, runs, admin, health, pages):
        app.include_router(module.router(settings))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET"],
                           allow_headers=["Authorization", "If-None-Match"], expose_headers=["ETag", "Retry-After"])
    browser.install(app, settings)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(SecurityHeaders)
    return app
